/* connections.c — rbd's socket: accepting, who calls, framing, per-connection limits, replies and waits. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/server_internal.h"
#include "daemon/uvutil.h"

static void conn_closed(uv_handle_t *h);
static void conn_process_backlog(conn *c);

/* ---- output ---- */

typedef struct write_req {
	uv_write_t req;
	char *text;
} write_req;

static void write_done(uv_write_t *req, int status)
{
	write_req *w = (write_req *)req;
	(void)status;
	free(w->text);
	free(w);
}

static void conn_drop(conn *c, const char *why)
{
	if (c->closing)
		return;
	rbd_log(RBD_LOG_WARN, "dropping the connection of uid %u: %s", (unsigned)c->uid, why);
	c->closing = 1;
	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* A client that lets more than max_output_queue bytes pile up is dropped, never waited for. */
void rbd_conn_send(conn *c, char *text, size_t len)
{
	if (c->closing) {
		free(text);
		return;
	}
	/* Measured before this message, so one large reply (a result) still goes to a reader. */
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > c->s->cfg->max_output_queue) {
		free(text);
		conn_drop(c, "it stopped reading its replies");
		return;
	}
	write_req *w = rbe_xcalloc(1, sizeof(*w));
	w->text = text;
	uv_buf_t buf = uv_buf_init(text, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, write_done) < 0) {
		free(text);
		free(w);
		conn_drop(c, "a write failed");
	}
}

void rbd_reply(conn *c, json_t *params, int continues)
{
	size_t len;
	char *text = rbw_msg_reply(params, continues, &len);
	json_decref(params);
	rbd_conn_send(c, text, len);
}

void rbd_reply_error(conn *c, const char *error, json_t *params, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t len;
	char *text = rbw_msg_error(error, params, msg, &len);
	rbd_conn_send(c, text, len);
}

/* Close after what is queued has been written (shutdown flushes, then the close). */
static void shutdown_done(uv_shutdown_t *req, int status)
{
	(void)status;
	conn *c = req->data;
	free(req);
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void conn_finish(conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_shutdown_t *req = rbe_xcalloc(1, sizeof(*req));
	req->data = c;
	if (uv_shutdown(req, (uv_stream_t *)&c->pipe, shutdown_done) < 0) {
		free(req);
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
	}
}

void rbd_conns_close(rbd_server *s)
{
	for (conn *c = s->conns; c; c = c->next)
		if (!c->closing) {
			c->closing = 1;
			uv_close((uv_handle_t *)&c->pipe, conn_closed);
		}
}

/* ---- waiting ---- */

/* Progress is streamed at most every PROGRESS_INTERVAL unless the phase changed; the final
 * state ends the wait and lets the calls behind it run. */
void rbd_notify(rbd_server *s, int64_t id)
{
	json_t *obj = NULL;
	int final = 0;
	for (conn *c = s->conns; c; c = c->next) {
		if (c->closing || c->wait_id != id)
			continue;
		if (!obj) {
			rbd_job_row row = {0};
			rbe_error e = {0};
			if (rbd_jobstore_get(s->store, id, &row, &e) < 0)
				return;
			final = rbd_job_state_final(row.state);
			obj = rbd_job_json(s, &row);
			rbd_job_row_clear(&row);
		}
		if (final) {
			c->wait_id = 0;
			rbd_reply(c, json_incref(obj), 0);
			conn_process_backlog(c);
			continue;
		}
		if (!c->wait_more)
			continue;
		const char *phase = json_string_value(json_object_get(json_object_get(obj, "progress"), "phase"));
		double now = rbe_now();
		if (now - c->last_progress < PROGRESS_INTERVAL && phase && !strcmp(phase, c->last_phase))
			continue;
		c->last_progress = now;
		snprintf(c->last_phase, sizeof(c->last_phase), "%s", phase ? phase : "");
		rbd_reply(c, json_incref(obj), 1);
	}
	json_decref(obj);
}

/* ---- who calls ---- */

const rbd_team_conf *rbd_caller_team(const conn *c)
{
	return rbd_config_team_of(c->s->cfg, c->uid, c->gid, c->groups, c->n_groups);
}

int rbd_caller_admin(const conn *c)
{
	return rbd_config_is_admin(c->s->cfg, c->uid, c->gid, c->groups, c->n_groups);
}

static void peer_identity(conn *c)
{
	struct ucred cred = {0};
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->uid = cred.uid;
		c->gid = cred.gid;
	}
	/* Supplementary groups from the group database (the kernel hands over uid and gid only).
	 * The lookup may go over the network (NSS), and it runs on the loop: remember each answer
	 * for a minute, so a busy client does not stall everyone on every connection. */
	group_cache_entry *g = &c->s->group_cache[c->uid % GROUP_CACHE_SIZE];
	double now = rbe_now();
	if (g->valid && g->uid == c->uid && g->gid == c->gid && now - g->at < GROUP_CACHE_SECONDS) {
		memcpy(c->groups, g->groups, g->n * sizeof(gid_t));
		c->n_groups = g->n;
		return;
	}
	struct passwd pw, *found = NULL;
	char buf[4096];
	if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &found) == 0 && found) {
		int n = MAX_GROUPS;
		if (getgrouplist(found->pw_name, c->gid, c->groups, &n) >= 0)
			c->n_groups = (size_t)n;
	}
	*g = (group_cache_entry){.valid = 1, .uid = c->uid, .gid = c->gid, .n = c->n_groups, .at = now};
	memcpy(g->groups, c->groups, c->n_groups * sizeof(gid_t));
}

/* ---- input ---- */

static int on_message(void *ctx, const char *text, size_t len)
{
	conn *c = ctx;
	if (c->closing)
		return -ECANCELED;
	if (c->wait_id) {
		/* Replies go out in call order: later calls wait behind the pending one. */
		if (c->n_backlog >= MAX_BACKLOG) {
			conn_drop(c, "too many calls pipelined behind a Wait");
			return -ECANCELED;
		}
		c->backlog = rbe_xrealloc(c->backlog, (c->n_backlog + 1) * sizeof(char *));
		c->backlog[c->n_backlog++] = rbe_xstrdup(text);
		return 0;
	}
	rbd_dispatch(c, text, len);
	return 0;
}

static void conn_process_backlog(conn *c)
{
	while (c->n_backlog && !c->wait_id && !c->closing) {
		char *text = c->backlog[0];
		memmove(c->backlog, c->backlog + 1, --c->n_backlog * sizeof(char *));
		rbd_dispatch(c, text, strlen(text));
		free(text);
	}
	if (c->eof && !c->wait_id && !c->n_backlog)
		conn_finish(c);
}

static void conn_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	conn *c = stream->data;
	if (n > 0) {
		int rc = rbw_msgbuf_feed(&c->in, buf->base, (size_t)n, on_message, c);
		if (rc == -EMSGSIZE) {
			rbd_reply_error(c, RBW_ERR_MESSAGE_TOO_LARGE,
					json_pack("{sI}", "limit", (json_int_t)c->s->cfg->max_message),
					"message longer than the limit of %llu bytes; closing the connection",
					(unsigned long long)c->s->cfg->max_message);
			conn_finish(c);
		}
	}
	free(buf->base);
	if (n < 0 && !c->closing) {
		if (n == UV_EOF && (c->wait_id || c->n_backlog)) {
			/* A client may send its calls and shut its side; it still gets the replies. */
			c->eof = 1;
			uv_read_stop(stream);
		} else {
			c->closing = 1;
			uv_close((uv_handle_t *)&c->pipe, conn_closed);
		}
	}
}

static void conn_closed(uv_handle_t *h)
{
	conn *c = h->data;
	rbd_server *s = c->s;
	for (conn **p = &s->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->n_conns--;
	for (size_t i = 0; i < c->n_backlog; i++)
		free(c->backlog[i]);
	free(c->backlog);
	rbw_msgbuf_free(&c->in);
	free(c);
	if (s->shutting_down)
		rbd_maybe_stopped(s);
}

/* ---- accepting ---- */

static void conn_link(rbd_server *s, conn *c)
{
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
}

/* Over max_connections_per_uid (same_uid open already) or max_connections: refuse c. */
static int over_limits(rbd_server *s, conn *c, size_t same_uid)
{
	const rbd_config *cfg = s->cfg;
	int per_uid = same_uid >= cfg->max_connections_per_uid;
	if (!per_uid && s->n_conns <= cfg->max_connections)
		return 0;
	rbd_reply_error(c, RBW_ERR_TOO_MANY_CONNECTIONS,
			json_pack("{sI}", "limit",
				  (json_int_t)(per_uid ? cfg->max_connections_per_uid : cfg->max_connections)),
			per_uid ? "uid %u has too many connections open" : "rbd has too many connections open (uid %u)",
			(unsigned)c->uid);
	conn_finish(c);
	return 1;
}

static void on_connection(uv_stream_t *listener, int status)
{
	rbd_server *s = listener->data;
	if (status < 0) {
		rbd_log(RBD_LOG_WARN, "accept: %s", uv_strerror(status));
		return;
	}
	conn *c = rbe_xcalloc(1, sizeof(*c));
	c->s = s;
	uv_pipe_init(s->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(listener, (uv_stream_t *)&c->pipe) < 0) {
		c->closing = 1;
		conn_link(s, c);
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	rbw_msgbuf_init(&c->in, s->cfg->max_message);
	peer_identity(c);
	size_t same_uid = 0;
	for (conn *o = s->conns; o; o = o->next)
		same_uid += !o->closing && o->uid == c->uid;
	conn_link(s, c);
	if (over_limits(s, c, same_uid))
		return;
	uv_read_start((uv_stream_t *)&c->pipe, rbd_uv_alloc, conn_read);
}

int rbd_listen(rbd_server *s, rbe_error *e)
{
	const rbd_config *cfg = s->cfg;
	struct sockaddr_un sa;
	if (strlen(cfg->socket_path) >= sizeof(sa.sun_path))
		return rbe_fail(e, -ENAMETOOLONG, "socket path %s is longer than %zu bytes", cfg->socket_path,
				sizeof(sa.sun_path) - 1);
	/* A socket file left by a previous rbd is replaced; the state-directory lock already
	 * proves no other rbd of this configuration runs. */
	struct stat st;
	if (lstat(cfg->socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(cfg->socket_path);
	uv_pipe_init(s->loop, &s->listener, 0);
	s->listener.data = s;
	s->listening = 1;
	int rc = uv_pipe_bind(&s->listener, cfg->socket_path);
	if (rc < 0)
		return rbe_fail(e, rc, "cannot bind %s: %s", cfg->socket_path, uv_strerror(rc));
	if (chmod(cfg->socket_path, cfg->socket_mode) < 0)
		return rbe_fail(e, -errno, "chmod %s: %s", cfg->socket_path, strerror(errno));
	if (cfg->socket_gid != (gid_t)-1 && chown(cfg->socket_path, (uid_t)-1, cfg->socket_gid) < 0)
		return rbe_fail(e, -errno, "chown %s to group %u: %s", cfg->socket_path, (unsigned)cfg->socket_gid,
				strerror(errno));
	rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
	if (rc < 0)
		return rbe_fail(e, rc, "cannot listen on %s: %s", cfg->socket_path, uv_strerror(rc));
	s->socket_path = rbe_xstrdup(cfg->socket_path);
	rbd_log(RBD_LOG_INFO, "listening on %s (%u workers, %zu datasets)", cfg->socket_path, cfg->workers,
		s->n_datasets);
	return 0;
}
