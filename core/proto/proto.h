/* proto.h — the rbctl ↔ rbd wire format (docs/protocol.md): NUL-terminated JSON messages. */
#ifndef RBW_PROTO_H
#define RBW_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define RBW_PROTO_INTERFACE "io.routerbench.v1"
#define RBW_PROTO_VERSION 1
#define RBW_PROTO_MAX_MESSAGE_DEFAULT (1u << 20) /* 1 MiB, NUL included */

/* Error names (the "error" member of a reply), all RBW_PROTO_INTERFACE ".Name". */
#define RBW_ERR_INVALID_MESSAGE "io.routerbench.v1.InvalidMessage"
#define RBW_ERR_MESSAGE_TOO_LARGE "io.routerbench.v1.MessageTooLarge"
#define RBW_ERR_METHOD_NOT_FOUND "io.routerbench.v1.MethodNotFound"
#define RBW_ERR_INVALID_PARAMETER "io.routerbench.v1.InvalidParameter"
#define RBW_ERR_NO_SUCH_JOB "io.routerbench.v1.NoSuchJob"
#define RBW_ERR_NO_SUCH_ROUTER "io.routerbench.v1.NoSuchRouter"
#define RBW_ERR_NO_SUCH_DATASET "io.routerbench.v1.NoSuchDataset"
#define RBW_ERR_QUOTA_EXCEEDED "io.routerbench.v1.QuotaExceeded"
#define RBW_ERR_PERMISSION_DENIED "io.routerbench.v1.PermissionDenied"
#define RBW_ERR_JOB_NOT_FINISHED "io.routerbench.v1.JobNotFinished"
#define RBW_ERR_JOB_FAILED "io.routerbench.v1.JobFailed"
#define RBW_ERR_TOO_MANY_CONNECTIONS "io.routerbench.v1.TooManyConnections"
#define RBW_ERR_SHUTTING_DOWN "io.routerbench.v1.ShuttingDown"
#define RBW_ERR_CONFIG_INVALID "io.routerbench.v1.ConfigInvalid"
#define RBW_ERR_INTERNAL "io.routerbench.v1.InternalError"

/* Incremental splitter for a byte stream of NUL-terminated messages, bounded by limit. */
typedef struct rbw_msgbuf {
	char *data;
	size_t len, cap;
	size_t limit; /* largest message accepted, its NUL included */
	size_t off;     /* data[off, len) is not handed out yet */
	size_t scanned; /* data[off, off + scanned) is known to hold no NUL: never searched twice */
	int dead;       /* a message was over the limit: every later feed answers -EMSGSIZE */
} rbw_msgbuf;

void rbw_msgbuf_init(rbw_msgbuf *b, size_t limit);
void rbw_msgbuf_free(rbw_msgbuf *b); /* accepts a zeroed or freed buffer */

/* Called once per complete message; text is NUL-terminated and borrowed for the call; len
 * excludes the NUL. Return 0 to go on, negative to stop feeding (that value is returned). */
typedef int (*rbw_msg_fn)(void *ctx, const char *text, size_t len);

/* Append n bytes and hand every completed message to fn, in order. Returns 0, fn's negative
 * value, or -EMSGSIZE once the pending message is longer than the limit (the buffer is then
 * dead: the caller answers MessageTooLarge and closes).
 * When fn stops the feed, the bytes after that message are kept (none is lost or handed out
 * twice): rbw_msgbuf_feed(b, NULL, 0, fn, ctx) goes on with them, and a caller that stops
 * should do so until it returns 0 before reading more. fn must not feed b itself. */
int rbw_msgbuf_feed(rbw_msgbuf *b, const char *data, size_t n, rbw_msg_fn fn, void *ctx);

/* A parsed call: {"method": "...", "parameters": {...}, "more": bool}. */
typedef struct rbw_call {
	char *method;       /* owned */
	json_t *parameters; /* owned reference; {} when absent */
	int more;           /* the caller asked for streamed replies */
} rbw_call;

/* Parse one message as a call. Malformed JSON (with line:column), a non-object, a missing or
 * non-string method, non-object parameters, a non-boolean more, or an unknown top-level member
 * are refused with a message naming the problem. *out untouched on failure. */
int rbw_call_parse(const char *text, size_t len, rbw_call *out, rbe_error *e);
void rbw_call_clear(rbw_call *c);

/* Encoders: owned text with its terminating NUL; *len counts the NUL. */
char *rbw_msg_call(const char *method, const json_t *parameters /* borrowed; NULL: {} */, int more,
		   size_t *len);
char *rbw_msg_reply(const json_t *parameters /* borrowed; NULL: {} */, int continues, size_t *len);
/* parameters stolen (NULL: {}); message, when not NULL, is added as parameters.message. */
char *rbw_msg_error(const char *error, json_t *parameters, const char *message, size_t *len);

/* A parsed reply, for clients. */
typedef struct rbw_reply {
	char *error;        /* owned; NULL for success */
	json_t *parameters; /* owned reference; {} when absent */
	int continues;
} rbw_reply;
int rbw_reply_parse(const char *text, size_t len, rbw_reply *out, rbe_error *e);
void rbw_reply_clear(rbw_reply *r);

/* A JSON string of s (owned reference). Messages quote file names, loader errors and router
 * output that need not be UTF-8, which json_string refuses: bad bytes become U+FFFD instead of
 * the whole message being lost. */
json_t *rbw_json_text(const char *s); /* NULL: JSON null */

/* Typed access to call parameters. Each refuses a wrong type or range with a message naming the
 * parameter ("parameter 'id' must be an integer from 1 to ..."); an absent optional parameter
 * leaves *out alone and returns 0. */
int rbw_param_int(const json_t *params, const char *name, int required, int64_t min, int64_t max, int64_t *out,
		  rbe_error *e);
int rbw_param_bool(const json_t *params, const char *name, int required, int *out, rbe_error *e);
int rbw_param_string(const json_t *params, const char *name, int required, const char **out /* borrowed */,
		     rbe_error *e);

/* Bytes received but not handed out yet: a partial message, or whole ones kept by a stop. */
size_t rbw_msgbuf_buffered(const rbw_msgbuf *b);

/* The human text of a reply (parameters.message, borrowed from r), or NULL when it has none. */
const char *rbw_reply_message(const rbw_reply *r);

/* Refuse a member of params not in known (NULL-terminated): "unknown parameter 'x' (known:
 * id, all)". 0 when all are known; params NULL counts as {}. */
int rbw_param_check_known(const json_t *params, const char *const *known, rbe_error *e);

#endif
