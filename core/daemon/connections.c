/* connections.c — rbd's socket: accepting, who calls, framing, per-connection limits, replies and waits. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "daemon/log.h"
#include "daemon/server_internal.h"
#include "daemon/uvutil.h"

static void conn_closed(uv_handle_t *h);
static void conn_process_backlog(conn *c);

#define FINISH_SECONDS 5.0   /* a flush-then-close that takes longer ends in a plain close */
#define SWEEP_MS 1000
#define MAX_LINGERING 64     /* refused connections waiting for their client to close */

/* ---- memory held for clients ---- */

/* *field (one of c's byte counts) becomes value; the server's total follows. */
static void held(conn *c, size_t *field, size_t value)
{
	rbd_server *s = c->s;
	s->buffered = s->buffered - *field + value;
	*field = value;
	if (s->buffered > s->buffered_peak)
		s->buffered_peak = s->buffered;
}

static void backlog_free(conn *c)
{
	for (size_t i = 0; i < c->n_backlog; i++)
		free(c->backlog[i]);
	free(c->backlog);
	c->backlog = NULL;
	c->n_backlog = 0;
	held(c, &c->backlog_bytes, 0);
}

/* ---- output ---- */

typedef struct write_req {
	uv_write_t req;
	conn *c;
	char *text;
	size_t len;
} write_req;

/* libuv runs this for every queued write before a closed handle's close callback: c is alive. */
static void write_done(uv_write_t *req, int status)
{
	write_req *w = (write_req *)req;
	(void)status;
	held(w->c, &w->c->out_bytes, w->c->out_bytes - w->len);
	free(w->text);
	free(w);
}

/* Closed at once: what is queued for it is freed, not flushed. */
static void conn_drop(conn *c, const char *why)
{
	if (c->closing)
		return;
	rbd_log_limited("dropped connections", RBD_LOG_WARN, "dropping the connection of uid %u: %s", (unsigned)c->uid,
			why);
	c->closing = 1;
	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* A client that lets more than max_output_queue bytes pile up is dropped, never waited for; so is
 * one with replies unread when all clients together hold max_buffered. */
void rbd_conn_send(conn *c, char *text, size_t len)
{
	const rbd_config *cfg = c->s->cfg;
	if (c->closing) {
		free(text);
		return;
	}
	/* Measured before this message, so one large reply (a result) still goes to a reader. */
	if (c->out_bytes > cfg->max_output_queue) {
		free(text);
		conn_drop(c, "it stopped reading its replies");
		return;
	}
	if (c->out_bytes && c->s->buffered + len > cfg->max_buffered) {
		free(text);
		conn_drop(c, "it stopped reading its replies and clients hold max_buffered together");
		return;
	}
	c->last_active = rbe_now();
	write_req *w = rbe_xcalloc(1, sizeof(*w));
	w->c = c;
	w->text = text;
	w->len = len;
	held(c, &c->out_bytes, c->out_bytes + len);
	uv_buf_t buf = uv_buf_init(text, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, write_done) < 0) {
		held(c, &c->out_bytes, c->out_bytes - len);
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
	c->finishing_at = rbe_now();
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

/* Whether job id ended without its end being stored: gone from memory, unfinished in the store
 * (or the store cannot say). Then why says so, and rbd_reconcile will fail the job. */
int rbd_job_lost(rbd_server *s, int64_t id, char *why, size_t size)
{
	if (rbd_jobmem_find(s, id))
		return 0;
	rbd_job_row row = {0};
	rbe_error e = {0};
	int rc = rbd_jobstore_get(s->store, id, &row, &e);
	int lost = rc < 0 || !rbd_job_state_final(row.state);
	rbd_job_row_clear(&row);
	if (!lost)
		return 0;
	s->orphans = 1;
	snprintf(why, size,
		 "job %lld ended, but rbd could not store how (%s); it is marked failed once the state directory "
		 "takes writes again",
		 (long long)id, rc < 0 ? e.msg : "the store still has it unfinished");
	return 1;
}

/* Progress is streamed at most every PROGRESS_INTERVAL unless the phase changed; the final
 * state ends the wait and lets the calls behind it run. */
void rbd_notify(rbd_server *s, int64_t id)
{
	json_t *obj = NULL;
	int final = 0;
	char why[1400];
	int lost = rbd_job_lost(s, id, why, sizeof(why));
	for (conn *c = s->conns; c; c = c->next) {
		if (c->closing || c->wait_id != id)
			continue;
		if (lost) {
			/* A Wait never outlasts what can be known. */
			c->wait_id = 0;
			rbd_reply_error(c, RBW_ERR_INTERNAL, json_pack("{sI}", "id", (json_int_t)id), "%s", why);
			conn_process_backlog(c);
			continue;
		}
		if (!obj) {
			rbd_job_row row = {0};
			rbe_error e = {0};
			if (rbd_jobstore_get(s->store, id, &row, &e) < 0) {
				rbd_job_row_clear(&row);
				lost = 1;
				snprintf(why, sizeof(why), "job %lld: %s", (long long)id, e.msg);
				c->wait_id = 0;
				rbd_reply_error(c, RBW_ERR_INTERNAL, json_pack("{sI}", "id", (json_int_t)id), "%s", why);
				conn_process_backlog(c);
				continue;
			}
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

/* All clients together hold max_buffered: c, which asked for more, is told and closed, and what
 * it held goes at once. */
static void over_total(conn *c)
{
	const rbd_config *cfg = c->s->cfg;
	backlog_free(c);
	rbd_log_limited("max_buffered", RBD_LOG_WARN,
			"closing the connection of uid %u: clients hold %llu bytes together ([server] max_buffered)",
			(unsigned)c->uid, (unsigned long long)cfg->max_buffered);
	rbd_reply_error(c, RBW_ERR_QUOTA_EXCEEDED, json_pack("{sssI}", "cap", "max_buffered", "limit",
							  (json_int_t)cfg->max_buffered),
			"rbd holds as much for its clients as it may ([server] max_buffered = %llu bytes); "
			"closing this connection, try again later",
			(unsigned long long)cfg->max_buffered);
	conn_finish(c);
}

static int on_message(void *ctx, const char *text, size_t len)
{
	conn *c = ctx;
	const rbd_config *cfg = c->s->cfg;
	if (c->closing)
		return -ECANCELED;
	c->last_active = rbe_now();
	if (c->wait_id) {
		/* Replies go out in call order: later calls wait behind the pending one. */
		if (c->n_backlog >= MAX_BACKLOG || c->backlog_bytes + len + 1 > cfg->max_output_queue) {
			conn_drop(c, "too many calls pipelined behind a Wait");
			return -ECANCELED;
		}
		if (c->s->buffered + len + 1 > cfg->max_buffered) {
			over_total(c);
			return -ECANCELED;
		}
		c->backlog = rbe_xrealloc(c->backlog, (c->n_backlog + 1) * sizeof(char *));
		c->backlog[c->n_backlog++] = rbe_xstrdup(text);
		held(c, &c->backlog_bytes, c->backlog_bytes + len + 1);
		return 0;
	}
	rbd_dispatch(c, text, len);
	return 0;
}

static void conn_process_backlog(conn *c)
{
	while (c->n_backlog && !c->wait_id && !c->closing) {
		char *text = c->backlog[0];
		size_t len = strlen(text);
		memmove(c->backlog, c->backlog + 1, --c->n_backlog * sizeof(char *));
		held(c, &c->backlog_bytes, c->backlog_bytes - len - 1);
		rbd_dispatch(c, text, len);
		free(text);
	}
	if (!c->n_backlog) {
		free(c->backlog);
		c->backlog = NULL;
	}
	if (c->eof && !c->wait_id && !c->n_backlog)
		conn_finish(c);
}

/* The client closed its socket outright, rather than only its sending side: nobody would read
 * the replies, so what is held for them goes now. */
static int peer_gone(conn *c)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0)
		return 1;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
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
		if (c->closing)
			rbw_msgbuf_free(&c->in); /* nothing more is read: the partial call goes now */
		held(c, &c->in_bytes, c->closing ? 0 : rbw_msgbuf_buffered(&c->in));
		if (!c->closing && c->in_bytes && c->s->buffered > c->s->cfg->max_buffered)
			over_total(c);
	}
	free(buf->base);
	if (n < 0 && !c->closing) {
		if (n == UV_EOF && (c->wait_id || c->n_backlog) && !peer_gone(c)) {
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
	if (c->refused)
		s->n_refused--;
	backlog_free(c);
	rbw_msgbuf_free(&c->in);
	held(c, &c->in_bytes, 0);
	held(c, &c->out_bytes, 0);
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
	if (!per_uid && s->n_conns - s->n_refused <= cfg->max_connections)
		return 0;
	rbd_reply_error(c, RBW_ERR_TOO_MANY_CONNECTIONS,
			json_pack("{sI}", "limit",
				  (json_int_t)(per_uid ? cfg->max_connections_per_uid : cfg->max_connections)),
			per_uid ? "uid %u has too many connections open" : "rbd has too many connections open (uid %u)",
			(unsigned)c->uid);
	conn_finish(c);
	return 1;
}

/* What a refused caller sends is read and dropped: closing with its call unread could make
 * that call's send fail before the client reads why it was refused. */
static void refused_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	conn *c = stream->data;
	free(buf->base);
	if (n < 0 && !uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void refused_shutdown_done(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/* A caller in no team, and no administrator, may do nothing here: one error says why (rbctl
 * prints it), rbd's side shuts, and the connection closes when the client's does (or after
 * FINISH_SECONDS; at once when many refused ones linger). It counts against no cap. */
static void refuse(rbd_server *s, conn *c)
{
	c->refused = 1;
	s->n_refused++;
	conn_link(s, c);
	rbd_log_limited("refused connections", RBD_LOG_INFO, "refused a connection of uid %u: in no team",
			(unsigned)c->uid);
	rbd_reply_error(c, RBW_ERR_PERMISSION_DENIED, json_pack("{sI}", "uid", (json_int_t)c->uid),
			"uid %u is in no team of %s and is no administrator; ask an administrator", (unsigned)c->uid,
			s->cfg->path);
	c->closing = 1;
	c->finishing_at = rbe_now();
	/* uv_write has put the message in the socket already when nothing was queued before it. */
	if (s->n_refused > MAX_LINGERING) {
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	uv_shutdown_t *req = rbe_xcalloc(1, sizeof(*req));
	if (uv_shutdown(req, (uv_stream_t *)&c->pipe, refused_shutdown_done) < 0) {
		free(req);
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
	} else if (uv_read_start((uv_stream_t *)&c->pipe, rbd_uv_alloc, refused_read) < 0) {
		uv_close((uv_handle_t *)&c->pipe, conn_closed); /* the shutdown's callback frees req */
	}
}

/* ---- the sweep: idle connections, flushes that never end, memory back to the system ---- */

static void sweep(uv_timer_t *t)
{
	rbd_server *s = t->data;
	double now = rbe_now(), idle = s->cfg->idle_timeout_seconds;
	for (conn *c = s->conns; c; c = c->next) {
		if (c->closing) {
			/* A client that reads nothing never lets a flush finish. */
			if (c->finishing_at && now - c->finishing_at > FINISH_SECONDS &&
			    !uv_is_closing((uv_handle_t *)&c->pipe))
				uv_close((uv_handle_t *)&c->pipe, conn_closed);
			continue;
		}
		if (idle > 0 && !c->wait_id && !c->n_backlog && now - c->last_active >= idle) {
			rbd_log_limited("idle connections", RBD_LOG_DEBUG,
					"closing the connection of uid %u: idle for %g s ([server] idle_timeout)",
					(unsigned)c->uid, idle);
			c->closing = 1;
			uv_close((uv_handle_t *)&c->pipe, conn_closed);
		}
	}
#ifdef __GLIBC__
	/* Buffers of a burst are freed into malloc's free lists; hand them back once it is over. */
	if (s->buffered_peak >= (1u << 20) && s->buffered < s->buffered_peak / 4) {
		malloc_trim(0);
		s->buffered_peak = s->buffered;
	}
#endif
	rbd_reconcile(s);
	rbd_log_limiter_tick();
}

void rbd_conns_stop_sweep(rbd_server *s)
{
	if (!s->sweep_on)
		return;
	s->sweep_on = 0;
	uv_close((uv_handle_t *)&s->sweep, NULL);
}

static void on_connection(uv_stream_t *listener, int status)
{
	rbd_server *s = listener->data;
	if (status < 0) {
		rbd_log_limited("accept", RBD_LOG_WARN, "accept: %s", uv_strerror(status));
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
	c->last_active = rbe_now();
	peer_identity(c);
	if (!rbd_caller_team(c) && !rbd_caller_admin(c)) {
		refuse(s, c);
		return;
	}
	size_t same_uid = 0;
	for (conn *o = s->conns; o; o = o->next)
		same_uid += !o->closing && !o->refused && o->uid == c->uid;
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
	uv_timer_init(s->loop, &s->sweep);
	s->sweep.data = s;
	uv_timer_start(&s->sweep, sweep, SWEEP_MS, SWEEP_MS);
	uv_unref((uv_handle_t *)&s->sweep);
	s->sweep_on = 1;
	s->socket_path = rbe_xstrdup(cfg->socket_path);
	rbd_log(RBD_LOG_INFO, "listening on %s (%u workers, %zu datasets)", cfg->socket_path, cfg->workers,
		s->n_datasets);
	return 0;
}
