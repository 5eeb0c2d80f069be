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
#define PLUGIN_SIZE_LIMIT (1ull << 30) /* a router file larger than this is not read */
#define PROBE_TIMEOUT_MS 10000

/* A .so file in the plugin directory, as last seen. */
typedef struct plugin_file {
	char *name; /* file name within the directory */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	rbd_router_entry *entry; /* its content's entry; NULL while unreadable or refused */
	char *refused;           /* why the entry itself is refused (a symbolic link, ...); or NULL */
	int seen;                /* mark for the scan that finds removed files */
} plugin_file;

typedef struct probe {
	rbd_registry *reg;
	rbd_router_entry *entry;
	uv_process_t proc;
	uv_pipe_t out;
	uv_pipe_t err;      /* the plugin's (and worker's) standard error, logged line by line */
	uv_timer_t timer;
	char *buf;
	size_t len;
	char line[512];     /* the standard error line being gathered */
	size_t line_len;
	size_t err_bytes;   /* read from err so far; past PROBE_OUTPUT_LIMIT the rest is dropped */
	int64_t exit_status;
	int term_signal;
	int exited, eof, err_eof, timed_out, open_handles;
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

/* The open file fd (size bytes when it was checked) whole, owned in *data. */
static int read_fd(int fd, const char *path, off_t size, char **data, size_t *len, rbe_error *e)
{
	if (size < 0 || (unsigned long long)size > PLUGIN_SIZE_LIMIT)
		return rbe_fail(e, -EFBIG, "%s: larger than %llu MiB", path, PLUGIN_SIZE_LIMIT >> 20);
	size_t cap = (size_t)size + 1, n = 0;
	char *buf = rbe_xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > PLUGIN_SIZE_LIMIT) {
				free(buf);
				return rbe_fail(e, -EFBIG, "%s: larger than %llu MiB", path, PLUGIN_SIZE_LIMIT >> 20);
			}
			cap *= 2;
			buf = rbe_xrealloc(buf, cap);
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int rc = rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
			free(buf);
			return rc;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* Read the open file whole, hash it and put a read-only copy in the store (atomically: temp +
 * rename), so a later change of the original never touches what a worker has mapped. */
static int store_copy(rbd_registry *r, int fd, const char *path, off_t size, char sha_hex[65], rbe_error *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc = read_fd(fd, path, size, &data, &len, e);
	if (rc < 0)
		return rc;
	uint8_t sha[32];
	rbe_sha256_buf(data, len, sha);
	rbe_hex(sha, 32, sha_hex);
	char *dest = rbd_registry_store_path(r, sha_hex);
	struct stat st;
	if (stat(dest, &st) == 0 && (size_t)st.st_size == len)
		goto done;
	size_t tn = strlen(dest) + 32;
	char *tmp = rbe_xmalloc(tn);
	snprintf(tmp, tn, "%s.tmp.%d", dest, (int)getpid());
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	if (out < 0) {
		rc = rbe_fail(e, -errno, "%s: %s", tmp, strerror(errno));
	} else {
		if (rbe_write_all(out, data, len) < 0 || fsync(out) < 0)
			rc = rbe_fail(e, -errno, "%s: %s", tmp, strerror(errno));
		close(out);
		if (rc == 0 && rename(tmp, dest) < 0)
			rc = rbe_fail(e, -errno, "%s: %s", dest, strerror(errno));
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
done:
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
	if (!p->exited || !p->eof || !p->err_eof)
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
	else if (p->len == 0)
		/* The worker always prints its answer: no output at all means the plugin's own code
		 * (a constructor calling exit) ended the probe while it was being loaded. */
		snprintf(reason, sizeof(reason), "the plugin exited while loading (status %lld)",
			 (long long)p->exit_status);
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
	uv_close((uv_handle_t *)&p->err, probe_closed);
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

/* One line of the probe's standard error into rbd's log: a plugin printing without end is
 * held to the limiter's few lines per interval, under a kind of its own file. */
static void probe_err_line(probe *p)
{
	char kind[300];
	p->line[p->line_len] = '\0';
	snprintf(kind, sizeof(kind), "probe of %s", p->entry->file);
	rbd_log_limited(kind, RBD_LOG_INFO, "router file %s (probe): %s", p->entry->file, p->line);
	p->line_len = 0;
}

static void probe_err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	probe *p = s->data;
	for (ssize_t i = 0; i < n && p->err_bytes < PROBE_OUTPUT_LIMIT; i++, p->err_bytes++) {
		char ch = buf->base[i];
		if (ch == '\n')
			probe_err_line(p);
		else if (p->line_len < sizeof(p->line) - 1)
			p->line[p->line_len++] = (unsigned char)ch < 0x20 && ch != '\t' ? '?' : ch;
	}
	free(buf->base);
	if (n < 0) {
		if (p->line_len)
			probe_err_line(p);
		uv_read_stop(s);
		p->err_eof = 1;
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
	uv_pipe_init(r->loop, &p->err, 0);
	uv_timer_init(r->loop, &p->timer);
	p->out.data = p->err.data = p->timer.data = p->proc.data = p;
	char *args[] = {r->worker_path, "--probe", en->store_path, NULL};
	uv_stdio_container_t stdio[3] = {
		{.flags = UV_IGNORE},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err},
	};
	uv_process_options_t opts = {
		.exit_cb = probe_exit,
		.file = r->worker_path,
		.args = args,
		.stdio_count = 3,
		.stdio = stdio,
	};
	r->open_handles++;
	p->open_handles = 4;
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
		uv_close((uv_handle_t *)&p->err, probe_closed);
		uv_close((uv_handle_t *)&p->timer, probe_closed);
		return;
	}
	p->next = r->probes;
	r->probes = p;
	uv_read_start((uv_stream_t *)&p->out, rbd_uv_alloc, probe_read);
	uv_read_start((uv_stream_t *)&p->err, rbd_uv_alloc, probe_err_read);
	uv_timer_start(&p->timer, probe_timeout, PROBE_TIMEOUT_MS, 0);
}

/* The entry for a file's current content (fd open on it): known contents are never probed twice. */
static rbd_router_entry *entry_for(rbd_registry *r, int fd, const char *path, off_t size, const char *file_name)
{
	char sha[65];
	rbe_error e = {0};
	if (store_copy(r, fd, path, size, sha, &e) < 0) {
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

/* Open a plugin directory entry without following a symbolic link and without blocking on a
 * FIFO; only a regular file is read. -1 with *refused set when the entry is not one (said in
 * the listing), -1 with *refused empty when it is gone; else the fd, *st its fstat. */
static int open_plugin(const char *path, struct stat *st, char *refused, size_t size)
{
	struct stat lst;
	if (lstat(path, &lst) < 0) {
		if (errno != ENOENT)
			snprintf(refused, size, "cannot read it: %s", strerror(errno));
		return -1;
	}
	if (S_ISLNK(lst.st_mode)) {
		snprintf(refused, size,
			 "a symbolic link: rbd reads only regular files in the plugin directory (install a copy)");
		return -1;
	}
	if (!S_ISREG(lst.st_mode)) {
		snprintf(refused, size, "not a regular file (a router is a .so file)");
		return -1;
	}
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(refused, size,
				 "a symbolic link: rbd reads only regular files in the plugin directory (install a copy)");
		else if (errno != ENOENT)
			snprintf(refused, size, "cannot read it: %s", strerror(errno));
		return -1;
	}
	/* The entry may have been swapped since lstat: what counts is what was opened. */
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(refused, size, "not a regular file (a router is a .so file)");
		close(fd);
		return -1;
	}
	return fd;
}

/* f cannot be used, as why says: listed so, and logged when the reason is new. */
static void file_refuse(plugin_file *f, const char *why)
{
	if (f->refused && !strcmp(f->refused, why))
		return;
	free(f->refused);
	f->refused = rbe_xstrdup(why);
	f->entry = NULL;
	f->dev = 0;
	f->ino = 0;
	rbd_log(RBD_LOG_WARN, "router file %s refused: %s", f->name, why);
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
			char refused[256] = "";
			int fd = open_plugin(path, &st, refused, sizeof(refused));
			if (fd < 0 && !*refused) {
				free(path); /* gone since readdir */
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
			if (fd < 0) {
				file_refuse(f, refused);
				free(path);
				continue;
			}
			/* Unchanged identity and times: the content is what was probed (or what could not
			 * be read: that is tried again, and logged again, only once the file changes). */
			if (f->refused || f->dev != st.st_dev || f->ino != st.st_ino || f->size != st.st_size ||
			    f->mtime.tv_sec != st.st_mtim.tv_sec || f->mtime.tv_nsec != st.st_mtim.tv_nsec) {
				free(f->refused);
				f->refused = NULL;
				f->dev = st.st_dev;
				f->ino = st.st_ino;
				f->size = st.st_size;
				f->mtime = st.st_mtim;
				f->entry = entry_for(r, fd, path, st.st_size, de->d_name);
			}
			close(fd);
			free(path);
		}
		closedir(d);
	}
	/* Removed files leave the listing; their store copies stay for jobs pinned to them. */
	size_t k = 0;
	for (size_t i = 0; i < r->n_files; i++) {
		if (r->files[i].seen) {
			r->files[k++] = r->files[i];
		} else {
			free(r->files[i].name);
			free(r->files[i].refused);
		}
	}
	r->n_files = k;
	/* In name order, for the listing (two files offering one name are both refused). */
	if (r->n_files > 1)
		qsort(r->files, r->n_files, sizeof(*r->files), file_cmp);
	maybe_ready(r);
}

/* The files (indices, up to max) whose router is called name; returns how many there are. */
static size_t files_named(const rbd_registry *r, const char *name, size_t *idx, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_files; i++) {
		const rbd_router_entry *en = r->files[i].entry;
		if (en && en->info && !strcmp(en->name, name)) {
			if (n < max)
				idx[n] = i;
			n++;
		}
	}
	return n;
}

const rbd_router_entry *rbd_registry_find(const rbd_registry *r, const char *name)
{
	size_t idx[1];
	return files_named(r, name, idx, 1) == 1 ? r->files[idx[0]].entry : NULL;
}

int rbd_registry_conflict(const rbd_registry *r, const char *name, char *why, size_t size)
{
	size_t idx[2];
	if (files_named(r, name, idx, 2) < 2)
		return 0;
	snprintf(why, size, "router name '%s' is declared by both %s and %s; neither is used until one is removed",
		 name, r->files[idx[0]].name, r->files[idx[1]].name);
	return 1;
}

json_t *rbd_registry_list(const rbd_registry *r)
{
	static const char *states[] = {"ok", "rejected", "quarantined"};
	json_t *list = json_array();
	for (size_t i = 0; i < r->n_files; i++) {
		const rbd_router_entry *en = r->files[i].entry;
		if (!en && r->files[i].refused) {
			json_array_append_new(list, json_pack("{s:s%, s:n, s:s, s:s, s:s}", "name", r->files[i].name,
							      strlen(r->files[i].name) - 3, "sha256", "file",
							      r->files[i].name, "state", "rejected", "reason",
							      r->files[i].refused));
			continue;
		}
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
		/* Two files declaring one name: neither is used, and each names the other. */
		size_t idx[2] = {0, 0};
		int conflict = en->info && files_named(r, en->name, idx, 2) > 1;
		size_t other = conflict && idx[0] == i ? idx[1] : idx[0];
		json_object_set_new(o, "sha256", json_string(en->sha256));
		json_object_set_new(o, "file", json_string(r->files[i].name));
		if (conflict) {
			json_object_set_new(o, "state", json_string("rejected"));
			char why[512];
			snprintf(why, sizeof(why), "router name '%s' is also declared by %s", en->name,
				 r->files[other].name);
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
		for (size_t i = 0; i < r->n_files; i++) {
			free(r->files[i].name);
			free(r->files[i].refused);
		}
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
	for (size_t i = 0; i < r->n_files; i++) {
		free(r->files[i].name);
		free(r->files[i].refused);
	}
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
