/* client.h — a blocking rbd client (rbctl, tests, benchmarks): connect, call, read replies. */
#ifndef RBW_CLIENT_H
#define RBW_CLIENT_H

#include <jansson.h>

#include "proto/proto.h"

#define RBW_DEFAULT_SOCKET "/run/rbd/rbd.sock"
#define RBW_SOCKET_ENV "RBD_SOCKET"

/* The socket to use: explicit (when not NULL), else $RBD_SOCKET, else RBW_DEFAULT_SOCKET. */
const char *rbw_client_socket_path(const char *explicit_path);

/* Replies can carry whole result documents. */
#define RBW_CLIENT_MAX_REPLY (64u << 20)

typedef struct rbw_client {
	int fd;
	rbw_msgbuf in;  /* received bytes: replies that came in the same read wait here for the next recv */
	char *chunk;    /* read buffer (owned) */
	size_t chunk_size;
	char *path;     /* the socket, for messages (owned; NULL for an adopted fd) */
} rbw_client;

/* Connect to the Unix socket at path. Errors name the path and say whether rbd is running
 * ("cannot connect to rbd at PATH: No such file or directory (is rbd running? set --socket or
 * RBD_SOCKET)"). Owned result:
 * rbw_client_close. */
int rbw_client_open(const char *path, rbw_client **out, rbe_error *e);
void rbw_client_close(rbw_client *c); /* accepts NULL */

/* Send one call (parameters borrowed; NULL: {}). */
int rbw_client_send(rbw_client *c, const char *method, const json_t *parameters, int more, rbe_error *e);
/* Read the next reply (blocking). -EPIPE with a message when rbd closed the connection. */
int rbw_client_recv(rbw_client *c, rbw_reply *out, rbe_error *e);

/* One call, one reply: send then recv. An error reply is returned as 0 with out->error set;
 * the negative returns are transport failures only. */
int rbw_client_call(rbw_client *c, const char *method, const json_t *parameters, rbw_reply *out, rbe_error *e);

/* A client over an already connected stream socket (socketpair tests, inherited connections).
 * fd is owned by the client from now on: rbw_client_close closes it. Owned result. */
rbw_client *rbw_client_adopt(int fd);

#endif
