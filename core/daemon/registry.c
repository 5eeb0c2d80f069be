/* registry.c — the routers rbd offers: plugin directory watch, out-of-process probes, the
 * content-addressed store, quarantine. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "proto/proto.h"
#include "daemon/registry.h"
#include "daemon/uvutil.h"

#define PROBE_OUTPUT_LIMIT (1u << 20)
#define PROBE_TIMEOUT_MS 10000

/* A .so file in the plugin directory, as last seen. */
typedef struct plugin_file {
	char *name; /* file name within the directory */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	rbd_router_entry *entry; /* its content's entry; NULL while unreadable */
	int seen;                /* mark for the scan that finds removed files */
} plugin_file;

typedef struct probe {
	rbd_registry *reg;
	rbd_router_entry *entry;
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	char *buf;
	size_t len;
	int64_t exit_status;
	int term_signal;
	int exited, eof, timed_out, open_handles;
	struct probe *next;
} probe;

struct rbd_registry {
	uv_loop_t *loop;
	char *plugin_dir, *store_dir, *worker_path;
	double rescan_seconds;
	unsigned quarantine_after;
	uv_fs_event_t watch;
	int watching;
	uv_timer_t rescan_timer, debounce_timer;
	plugin_file *files;
	size_t n_files;
	rbd_router_entry **entries; /* every content ever probed, by sha */
	size_t n_entries;
	probe *probes;   /* running */
	int dir_unreadable;
	int closing;
	void (*ready)(void *);
	void *ready_ctx;
	void (*closed)(void *);
	void *closed_ctx;
	int open_handles;
};

static rbd_router_entry *entry_by_sha(const rbd_registry *r, const char *sha)
{
	for (size_t i = 0; i < r->n_entries; i++)
		if (!strcmp(r->entries[i]->sha256, sha))
			return r->entries[i];
	return NULL;
}

char *rbd_registry_store_path(const rbd_registry *r, const char *sha256)
{
	size_t n = strlen(r->store_dir) + strlen(sha256) + 8;
	char *p = rbe_xmalloc(n);
	snprintf(p, n, "%s/%s.so", r->store_dir, sha256);
	return p;
}

/* Read the file whole, hash it and put a read-only copy in the store (atomically: temp + rename),
 * so a later change of the original never touches what a worker has mapped. */
static int store_copy(rbd_registry *r, const char *path, char sha_hex[65], rbe_error *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc = rbe_read_file(path, &data, &len, e);
	if (rc < 0)
		return rc;
	uint8_t sha[32];
	rbe_sha256_buf(data, len, sha);
	rbe_hex(sha, 32, sha_hex);
	char *dest = rbd_registry_store_path(r, sha_hex);
	struct stat st;
	if (stat(dest, &st) == 0 && (size_t)st.st_size == len)
		goto out;
	size_t tn = strlen(dest) + 32;
	char *tmp = rbe_xmalloc(tn);
	snprintf(tmp, tn, "%s.tmp.%d", dest, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	if (fd < 0) {
		rc = rbe_fail(e, -errno, "%s: %s", tmp, strerror(errno));
	} else {
		if (rbe_write_all(fd, data, len) < 0 || fsync(fd) < 0)
			rc = rbe_fail(e, -errno, "%s: %s", tmp, strerror(errno));
		close(fd);
		if (rc == 0 && rename(tmp, dest) < 0)
			rc = rbe_fail(e, -errno, "%s: %s", dest, strerror(errno));
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
out:
	free(dest);
	free(data);
	return rc;
}

/* Keep the probe's description and the parameter schema in it. */
static int entry_describe(rbd_router_entry *en, json_t *router, rbe_error *e)
{
	const char *name = json_string_value(json_object_get(router, "name"));
	const char *kind = json_string_value(json_object_get(router, "kind"));
	if (!name || !kind)
		return rbe_fail(e, -EINVAL, "probe output lacks name or kind");
	rbe_param_schema *schema;
	int rc = rbe_param_schema_from_json(name, json_object_get(router, "params"), &schema, e);
	if (rc < 0)
		return rbe_error_prefix(e, "probe output");
	en->schema = schema;
	en->info = json_incref(router);
	en->name = name;
	return 0;
}

static void maybe_ready(rbd_registry *r)
{
	if (r->ready && !r->probes) {
		void (*ready)(void *) = r->ready;
		r->ready = NULL;
		ready(r->ready_ctx);
	}
}

static void registry_unref(rbd_registry *r);

static void probe_closed(uv_handle_t *h)
{
	probe *p = h->data;
	if (--p->open_handles > 0)
		return;
	rbd_registry *r = p->reg;
	free(p->buf);
	free(p);
	registry_unref(r);
}

static void probe_finish(probe *p)
{
	rbd_registry *r = p->reg;
	rbd_router_entry *en = p->entry;
	if (!p->exited || !p->eof)
		return;
	for (probe **pp = &r->probes; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	char reason[1024] = "", sig[32];
	json_error_t jerr;
	json_t *doc = NULL;
	if (p->timed_out)
		snprintf(reason, sizeof(reason), "probe timed out after %d s (a constructor that hangs?)",
			 PROBE_TIMEOUT_MS / 1000);
	else if (p->term_signal)
		snprintf(reason, sizeof(reason), "probe crashed: %s while loading the plugin",
			 rbe_signal_name(p->term_signal, sig));
	else if (p->exit_status != 0)
		snprintf(reason, sizeof(reason), "probe exited with status %lld while loading the plugin",
			 (long long)p->exit_status);
	else if (!(doc = json_loadb(p->buf ? p->buf : "", p->len, 0, &jerr)))
		snprintf(reason, sizeof(reason), "probe output is not JSON: %s", jerr.text);
	if (doc) {
		if (json_is_true(json_object_get(doc, "ok"))) {
			rbe_error e = {0};
			if (entry_describe(en, json_object_get(doc, "router"), &e) < 0)
				snprintf(reason, sizeof(reason), "%s", e.msg);
		} else {
			const char *why = json_string_value(json_object_get(doc, "reason"));
			snprintf(reason, sizeof(reason), "%s", why ? why : "rejected by the loader");
		}
		json_decref(doc);
	}
	if (*reason) {
		en->state = RBD_ROUTER_REJECTED;
		free(en->reason);
		en->reason = rbe_xstrdup(reason);
		rbd_log(RBD_LOG_WARN, "router file %s rejected: %s", en->file, reason);
	} else {
		en->state = RBD_ROUTER_OK;
		const char *version = json_string_value(json_object_get(en->info, "version"));
		rbd_log(RBD_LOG_INFO, "router %s %s (%s, sha256 %.12s) from %s", en->name, version ? version : "",
			json_string_value(json_object_get(en->info, "kind")), en->sha256, en->file);
	}
	uv_close((uv_handle_t *)&p->proc, probe_closed);
	uv_close((uv_handle_t *)&p->out, probe_closed);
	uv_close((uv_handle_t *)&p->timer, probe_closed);
	maybe_ready(r);
}

static void probe_exit(uv_process_t *proc, int64_t status, int sig)
{
	probe *p = proc->data;
	p->exited = 1;
	p->exit_status = status;
	p->term_signal = sig;
	uv_timer_stop(&p->timer);
	probe_finish(p);
}

static void probe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	probe *p = s->data;
	if (n > 0 && p->len + (size_t)n <= PROBE_OUTPUT_LIMIT) {
		p->buf = rbe_xrealloc(p->buf, p->len + (size_t)n + 1);
		memcpy(p->buf + p->len, buf->base, (size_t)n);
		p->len += (size_t)n;
	}
	free(buf->base);
	if (n < 0) {
		uv_read_stop(s);
		p->eof = 1;
		probe_finish(p);
	}
}

static void probe_timeout(uv_timer_t *t)
{
	probe *p = t->data;
	p->timed_out = 1;
	uv_process_kill(&p->proc, SIGKILL);
}

static void probe_start(rbd_registry *r, rbd_router_entry *en)
{
	probe *p = rbe_xcalloc(1, sizeof(*p));
	p->reg = r;
	p->entry = en;
	uv_pipe_init(r->loop, &p->out, 0);
	uv_timer_init(r->loop, &p->timer);
	p->out.data = p->timer.data = p->proc.data = p;
	char *args[] = {r->worker_path, "--probe", en->store_path, NULL};
	uv_stdio_container_t stdio[3] = {
		{.flags = UV_IGNORE},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out},
		{.flags = UV_INHERIT_FD, .data.fd = 2},
	};
	uv_process_options_t opts = {
		.exit_cb = probe_exit,
		.file = r->worker_path,
		.args = args,
		.stdio_count = 3,
		.stdio = stdio,
	};
	r->open_handles++;
	p->open_handles = 3;
	int rc = uv_spawn(r->loop, &p->proc, &opts);
	if (rc < 0) {
		en->state = RBD_ROUTER_REJECTED;
		free(en->reason);
		size_t n = strlen(r->worker_path) + 128;
		en->reason = rbe_xmalloc(n);
		snprintf(en->reason, n, "cannot start the probe %s: %s", r->worker_path, uv_strerror(rc));
		rbd_log(RBD_LOG_ERR, "%s", en->reason);
		uv_close((uv_handle_t *)&p->proc, probe_closed);
		uv_close((uv_handle_t *)&p->out, probe_closed);
		uv_close((uv_handle_t *)&p->timer, probe_closed);
		return;
	}
	p->next = r->probes;
	r->probes = p;
	uv_read_start((uv_stream_t *)&p->out, rbd_uv_alloc, probe_read);
	uv_timer_start(&p->timer, probe_timeout, PROBE_TIMEOUT_MS, 0);
}

/* The entry for a file's current content: known contents are never probed twice. */
static rbd_router_entry *entry_for(rbd_registry *r, const char *path, const char *file_name)
{
	char sha[65];
	rbe_error e = {0};
	if (store_copy(r, path, sha, &e) < 0) {
		rbd_log(RBD_LOG_WARN, "router file %s: %s", path, e.msg);
		return NULL;
	}
	rbd_router_entry *en = entry_by_sha(r, sha);
	if (en) {
		free(en->file);
		en->file = rbe_xstrdup(file_name);
		return en;
	}
	en = rbe_xcalloc(1, sizeof(*en));
	memcpy(en->sha256, sha, sizeof(sha));
	en->file = rbe_xstrdup(file_name);
	en->store_path = rbd_registry_store_path(r, sha);
	en->state = RBD_ROUTER_REJECTED;
	en->reason = rbe_xstrdup("being probed");
	r->entries = rbe_xrealloc(r->entries, (r->n_entries + 1) * sizeof(*r->entries));
	r->entries[r->n_entries++] = en;
	probe_start(r, en);
	return en;
}

static int is_plugin_name(const char *name)
{
	size_t len = strlen(name);
	return len > 3 && name[0] != '.' && !strcmp(name + len - 3, ".so");
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const plugin_file *)a)->name, ((const plugin_file *)b)->name);
}

void rbd_registry_rescan(rbd_registry *r)
{
	if (r->closing)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		r->files[i].seen = 0;
	DIR *d = opendir(r->plugin_dir);
	if (!d) {
		/* Said once, not at every rescan, until the directory can be read again. */
		if (!r->dir_unreadable)
			rbd_log(RBD_LOG_WARN, "plugin directory %s: %s (rescanning every %g s)", r->plugin_dir,
				strerror(errno), r->rescan_seconds);
		r->dir_unreadable = 1;
	} else {
		r->dir_unreadable = 0;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!is_plugin_name(de->d_name))
				continue;
			size_t n = strlen(r->plugin_dir) + strlen(de->d_name) + 2;
			char *path = rbe_xmalloc(n);
			snprintf(path, n, "%s/%s", r->plugin_dir, de->d_name);
			struct stat st;
			if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
				free(path);
				continue;
			}
			plugin_file *f = NULL;
			for (size_t i = 0; i < r->n_files && !f; i++)
				if (!strcmp(r->files[i].name, de->d_name))
					f = &r->files[i];
			if (!f) {
				r->files = rbe_xrealloc(r->files, (r->n_files + 1) * sizeof(*r->files));
				f = &r->files[r->n_files++];
				memset(f, 0, sizeof(*f));
				f->name = rbe_xstrdup(de->d_name);
			}
			f->seen = 1;
			/* Unchanged identity and times: the content is what was probed (or what could not
			 * be read: that is tried again, and logged again, only once the file changes). */
			if (f->dev != st.st_dev || f->ino != st.st_ino || f->size != st.st_size ||
			    f->mtime.tv_sec != st.st_mtim.tv_sec || f->mtime.tv_nsec != st.st_mtim.tv_nsec) {
				f->dev = st.st_dev;
				f->ino = st.st_ino;
				f->size = st.st_size;
				f->mtime = st.st_mtim;
				f->entry = entry_for(r, path, de->d_name);
			}
			free(path);
		}
		closedir(d);
	}
	/* Removed files leave the listing; their store copies stay for jobs pinned to them. */
	size_t k = 0;
	for (size_t i = 0; i < r->n_files; i++) {
		if (r->files[i].seen)
			r->files[k++] = r->files[i];
		else
			free(r->files[i].name);
	}
	r->n_files = k;
	/* In name order: when two files offer one router name, the first one wins. */
	if (r->n_files > 1)
		qsort(r->files, r->n_files, sizeof(*r->files), file_cmp);
	maybe_ready(r);
}

const rbd_router_entry *rbd_registry_find(const rbd_registry *r, const char *name)
{
	for (size_t i = 0; i < r->n_files; i++) {
		const rbd_router_entry *en = r->files[i].entry;
		if (en && en->info && !strcmp(en->name, name))
			return en;
	}
	return NULL;
}

void rbd_registry_report_crash(rbd_registry *r, const char *sha256, const char *reason)
{
	rbd_router_entry *en = entry_by_sha(r, sha256);
	if (!en || en->state != RBD_ROUTER_OK)
		return;
	if (++en->crashes < r->quarantine_after)
		return;
	en->state = RBD_ROUTER_QUARANTINED;
	free(en->reason);
	size_t n = strlen(reason) + 160;
	en->reason = rbe_xmalloc(n);
	snprintf(en->reason, n, "quarantined after %u crashes (last: %s); replace the file to clear it", en->crashes,
		 reason);
	rbd_log(RBD_LOG_WARN, "router %s (sha256 %.12s) %s", en->name, en->sha256, en->reason);
}

json_t *rbd_registry_list(const rbd_registry *r)
{
	static const char *states[] = {"ok", "rejected", "quarantined"};
	json_t *list = json_array();
	for (size_t i = 0; i < r->n_files; i++) {
		const rbd_router_entry *en = r->files[i].entry;
		if (!en)
			continue;
		json_t *o = json_object();
		if (en->info) {
			json_object_update(o, en->info);
		} else {
			/* Rejected: listed under its file name. */
			size_t len = strlen(r->files[i].name) - 3;
			json_object_set_new(o, "name", json_stringn(r->files[i].name, len));
		}
		const rbd_router_entry *winner = en->info ? rbd_registry_find(r, en->name) : en;
		json_object_set_new(o, "sha256", json_string(en->sha256));
		json_object_set_new(o, "file", json_string(r->files[i].name));
		if (winner != en) {
			json_object_set_new(o, "state", json_string("rejected"));
			char why[512];
			snprintf(why, sizeof(why), "router name '%s' is already offered by %s", en->name,
				 winner->file);
			json_object_set_new(o, "reason", json_string(why));
		} else {
			json_object_set_new(o, "state", json_string(states[en->state]));
			json_object_set_new(o, "reason", en->reason && en->state != RBD_ROUTER_OK ? json_string(en->reason)
												     : json_null());
		}
		json_array_append_new(list, o);
	}
	return json_pack("{so}", "routers", list);
}

static void debounce_fire(uv_timer_t *t)
{
	rbd_registry_rescan(t->data);
}

/* inotify: a file installed by rename shows up as one event; a copy in place as many, so
 * events are gathered for 50 ms before one rescan. */
static void watch_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	(void)filename;
	(void)events;
	rbd_registry *r = h->data;
	if (status < 0) {
		rbd_log(RBD_LOG_WARN, "watching %s: %s (the periodic rescan goes on)", r->plugin_dir, uv_strerror(status));
		return;
	}
	uv_timer_start(&r->debounce_timer, debounce_fire, 50, 0);
}

static void rescan_fire(uv_timer_t *t)
{
	rbd_registry_rescan(t->data);
}

static void scan_now_and_periodically(rbd_registry *r)
{
	uint64_t period = (uint64_t)(r->rescan_seconds * 1000);
	uv_timer_start(&r->rescan_timer, rescan_fire, period, period);
	rbd_registry_rescan(r);
}

static int watch_dir(rbd_registry *r)
{
	if (r->watching) {
		uv_fs_event_stop(&r->watch);
		r->watching = 0;
	}
	int rc = uv_fs_event_start(&r->watch, watch_event, r->plugin_dir, 0);
	if (rc < 0)
		rbd_log(RBD_LOG_WARN, "cannot watch %s: %s; relying on the %g s rescan", r->plugin_dir, uv_strerror(rc),
			r->rescan_seconds);
	else
		r->watching = 1;
	return 0;
}

static void set_opts(rbd_registry *r, const rbd_registry_opts *o)
{
	free(r->plugin_dir);
	free(r->store_dir);
	free(r->worker_path);
	r->plugin_dir = rbe_xstrdup(o->plugin_dir);
	r->store_dir = rbe_xstrdup(o->store_dir);
	r->worker_path = rbe_xstrdup(o->worker_path);
	r->rescan_seconds = o->rescan_seconds > 0 ? o->rescan_seconds : 5;
	r->quarantine_after = o->quarantine_after ? o->quarantine_after : 3;
}

int rbd_registry_start(uv_loop_t *loop, const rbd_registry_opts *o, void (*ready)(void *), void *ctx,
		       rbd_registry **out, rbe_error *e)
{
	if (mkdir(o->store_dir, 0755) < 0 && errno != EEXIST)
		return rbe_fail(e, -errno, "plugin store %s: %s", o->store_dir, strerror(errno));
	rbd_registry *r = rbe_xcalloc(1, sizeof(*r));
	r->loop = loop;
	set_opts(r, o);
	r->ready = ready;
	r->ready_ctx = ctx;
	uv_fs_event_init(loop, &r->watch);
	uv_timer_init(loop, &r->rescan_timer);
	uv_timer_init(loop, &r->debounce_timer);
	r->watch.data = r->rescan_timer.data = r->debounce_timer.data = r;
	r->open_handles = 3;
	watch_dir(r);
	*out = r;
	scan_now_and_periodically(r);
	return 0;
}

int rbd_registry_update(rbd_registry *r, const rbd_registry_opts *o, rbe_error *e)
{
	if (mkdir(o->store_dir, 0755) < 0 && errno != EEXIST)
		return rbe_fail(e, -errno, "plugin store %s: %s", o->store_dir, strerror(errno));
	int dir_changed = strcmp(r->plugin_dir, o->plugin_dir) != 0;
	set_opts(r, o);
	if (dir_changed) {
		for (size_t i = 0; i < r->n_files; i++)
			free(r->files[i].name);
		r->n_files = 0;
		watch_dir(r);
	}
	scan_now_and_periodically(r);
	return 0;
}

/* Handles and running probes keep the registry open; close's callback runs after the last. */
static void registry_unref(rbd_registry *r)
{
	if (--r->open_handles == 0 && r->closed)
		r->closed(r->closed_ctx);
}

static void handle_closed(uv_handle_t *h)
{
	registry_unref(h->data);
}

void rbd_registry_close(rbd_registry *r, void (*cb)(void *), void *ctx)
{
	r->closing = 1;
	r->closed = cb;
	r->closed_ctx = ctx;
	r->ready = NULL;
	for (probe *p = r->probes; p; p = p->next)
		uv_process_kill(&p->proc, SIGKILL);
	uv_close((uv_handle_t *)&r->watch, handle_closed);
	uv_close((uv_handle_t *)&r->rescan_timer, handle_closed);
	uv_close((uv_handle_t *)&r->debounce_timer, handle_closed);
}

void rbd_registry_free(rbd_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].name);
	free(r->files);
	for (size_t i = 0; i < r->n_entries; i++) {
		rbd_router_entry *en = r->entries[i];
		free(en->file);
		free(en->store_path);
		free(en->reason);
		rbe_param_schema_free(en->schema);
		json_decref(en->info);
		free(en);
	}
	free(r->entries);
	free(r->plugin_dir);
	free(r->store_dir);
	free(r->worker_path);
	free(r);
}
