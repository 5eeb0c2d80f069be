/* client.c — the blocking rbd client: connect to the Unix socket, send calls, read framed replies. */
#include "proto/client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENT_CHUNK (64u << 10)

/* The private value take_one stops the feed with: one reply per recv, the rest stays buffered. */
#define TAKEN (-ECANCELED)

const char *rbw_client_socket_path(const char *explicit_path)
{
	if (explicit_path)
		return explicit_path;
	const char *env = getenv(RBW_SOCKET_ENV);
	return env && *env ? env : RBW_DEFAULT_SOCKET;
}

static rbw_client *client_new(int fd, const char *path)
{
	rbw_client *c = rbe_xcalloc(1, sizeof(*c));
	c->fd = fd;
	rbw_msgbuf_init(&c->in, RBW_CLIENT_MAX_REPLY);
	c->chunk_size = CLIENT_CHUNK;
	c->chunk = rbe_xmalloc(c->chunk_size);
	c->path = path ? rbe_xstrdup(path) : NULL;
	return c;
}

rbw_client *rbw_client_adopt(int fd) { return client_new(fd, NULL); }

/* connect() interrupted by a signal goes on in the background; retrying it would say EALREADY,
 * so wait for the outcome instead. Returns 0 or an errno value. */
static int connect_outcome(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return errno;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

static const char *connect_hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "(the socket's permissions do not let you in; set --socket or RBD_SOCKET for another)";
	case EAGAIN:
		return "(rbd is not accepting connections fast enough; try again)";
	default:
		return "(is rbd running? set --socket or RBD_SOCKET)";
	}
}

int rbw_client_open(const char *path, rbw_client **out, rbe_error *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen = strlen(path);
	if (plen == 0)
		return rbe_fail(e, -EINVAL, "cannot connect to rbd: the socket path is empty (set --socket or RBD_SOCKET)");
	if (plen >= sizeof(sa.sun_path))
		return rbe_fail(e, -ENAMETOOLONG, "cannot connect to rbd at %s: the socket path is longer than %zu bytes",
				path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, plen + 1);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;
		return rbe_fail(e, -err, "cannot connect to rbd at %s: socket: %s", path, strerror(err));
	}
	int err = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = errno == EINTR ? connect_outcome(fd) : errno;
	if (err) {
		close(fd);
		return rbe_fail(e, -err, "cannot connect to rbd at %s: %s %s", path, strerror(err), connect_hint(err));
	}
	*out = client_new(fd, path);
	return 0;
}

void rbw_client_close(rbw_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	rbw_msgbuf_free(&c->in);
	free(c->chunk);
	free(c->path);
	free(c);
}

static const char *where(const rbw_client *c) { return c->path ? c->path : "(inherited socket)"; }

/* MSG_NOSIGNAL: a server that went away is an -EPIPE to report, not a SIGPIPE that kills rbctl. */
int rbw_client_send(rbw_client *c, const char *method, const json_t *parameters, int more, rbe_error *e)
{
	size_t len;
	char *text = rbw_msg_call(method, parameters, more, &len);
	size_t done = 0;
	int r = 0;
	while (done < len) {
		ssize_t w = send(c->fd, text + done, len - done, MSG_NOSIGNAL);
		if (w < 0) {
			int err = errno;
			if (err == EINTR)
				continue;
			if (err == EPIPE || err == ECONNRESET)
				r = rbe_fail(e, -EPIPE, "rbd at %s closed the connection", where(c));
			else
				r = rbe_fail(e, -err, "cannot send to rbd at %s: %s", where(c), strerror(err));
			break;
		}
		done += (size_t)w;
	}
	free(text);
	return r;
}

typedef struct take {
	rbw_reply *out;
	rbe_error *e;
	int got, r;
} take;

static int take_one(void *ctx, const char *text, size_t len)
{
	take *t = ctx;
	t->got = 1;
	t->r = rbw_reply_parse(text, len, t->out, t->e);
	return TAKEN;
}

int rbw_client_recv(rbw_client *c, rbw_reply *out, rbe_error *e)
{
	take t = {.out = out, .e = e};
	/* First a reply that came in an earlier read. */
	int r = rbw_msgbuf_feed(&c->in, NULL, 0, take_one, &t);
	for (;;) {
		if (t.got) {
			if (t.r < 0 && e)
				rbe_error_prefix(e, "bad reply from rbd at %s", where(c));
			return t.r;
		}
		if (r == -EMSGSIZE)
			return rbe_fail(e, -EMSGSIZE, "a reply from rbd at %s is larger than %u MiB", where(c),
					RBW_CLIENT_MAX_REPLY >> 20);
		rbe_require(r == 0);
		ssize_t n = recv(c->fd, c->chunk, c->chunk_size, 0);
		if (n < 0) {
			int err = errno;
			if (err == EINTR)
				continue;
			if (err == ECONNRESET)
				return rbe_fail(e, -EPIPE, "rbd at %s closed the connection", where(c));
			return rbe_fail(e, -err, "cannot read from rbd at %s: %s", where(c), strerror(err));
		}
		if (n == 0)
			return rbe_fail(e, -EPIPE, "rbd at %s closed the connection%s", where(c),
					rbw_msgbuf_buffered(&c->in) ? " in the middle of a reply" : "");
		r = rbw_msgbuf_feed(&c->in, c->chunk, (size_t)n, take_one, &t);
	}
}

int rbw_client_call(rbw_client *c, const char *method, const json_t *parameters, rbw_reply *out, rbe_error *e)
{
	int r = rbw_client_send(c, method, parameters, 0, e);
	if (r < 0)
		return r;
	return rbw_client_recv(c, out, e);
}
