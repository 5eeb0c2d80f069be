/* config.c — rbd's configuration file: inih splits the lines, every value is checked here, and
 * every problem is refused as "PATH:LINE: [section] key: problem". */
#include "daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

/* inih r55 as Debian builds it hands the handler no line number (INI_HANDLER_LINENO is a build
 * option of the library, off) and no [section] header (INI_CALL_HANDLER_ON_NEW_SECTION, off), reads
 * lines into a 200-byte buffer and cuts [section] names at 49 characters. So inih reads through
 * read_line below: inih asks for one line at a time and calls the handler for that line before it
 * asks for the next, so the lines read_line counts are the line of every handler call. read_line
 * also refuses what inih would cut silently (it would parse the rest of a long line as a line of
 * its own) and opens each [section], also one without keys. Which lines are keys, continuations,
 * comments or mistakes is inih's to say; it returns the first line it could not parse. */
#define INIH_MAX_SECTION 50

#define ID_MAX 0xfffffffeu /* (uid_t)-1 and (gid_t)-1 mean "no change" to chown and setresuid */

enum sec_kind { SEC_SERVER, SEC_LIMITS, SEC_TEAM, SEC_DATASET, SEC_SANDBOX };

enum key_kind {
	K_PATH,        /* char *, relative to the config file's directory */
	K_SOCKET,      /* a K_PATH that must fit sockaddr_un */
	K_MODE,        /* uint32_t, octal */
	K_GROUP,       /* gid_t, name or number */
	K_U32,         /* uint32_t */
	K_U64,         /* uint64_t */
	K_SIZE,        /* uint64_t bytes, K/M/G/T */
	K_SECONDS,     /* double, s/m/h */
	K_CPU_SECONDS, /* uint64_t: a duration in whole seconds */
	K_UIDS,        /* list: the team's uids */
	K_GIDS,        /* list: the team's gids */
	K_PATHS,       /* list: the dataset's csv */
	K_BOOL,        /* int: true or false */
	K_UID_RANGE,   /* FIRST-LAST: sandbox_uid_first and sandbox_uid_count */
};

typedef struct key_def {
	const char *name;
	enum key_kind kind;
	size_t offset;     /* into rbd_config, rbd_team_conf or rbd_dataset_conf by section */
	double min, max;   /* numbers: the accepted range */
	bool zero_ok;      /* 0 ("none") is accepted besides [min, max] */
	const char *range; /* the range as a message says it */
} key_def;

#define CFG(f) offsetof(rbd_config, f)
#define TEAM(f) offsetof(rbd_team_conf, f)
#define DS(f) offsetof(rbd_dataset_conf, f)
#define KiB 1024.0
#define MiB (1024.0 * KiB)
#define GiB (1024.0 * MiB)
#define TiB (1024.0 * GiB)

/* The ranges keep out values that cannot work (a worker in 1 MiB of address space, no file
 * descriptors) and typos of a few orders of magnitude, not unusual but sane settings. */
static const key_def server_keys[] = {
	{"socket", K_SOCKET, CFG(socket_path), 0, 0, false, NULL},
	{"socket_mode", K_MODE, CFG(socket_mode), 0, 0, false, NULL},
	{"socket_group", K_GROUP, CFG(socket_gid), 0, 0, false, NULL},
	{"state_dir", K_PATH, CFG(state_dir), 0, 0, false, NULL},
	{"plugin_dir", K_PATH, CFG(plugin_dir), 0, 0, false, NULL},
	{"workers", K_U32, CFG(workers), 1, 1024, false, "1 to 1024"},
	{"admin_group", K_GROUP, CFG(admin_gid), 0, 0, false, NULL},
	{"max_message", K_SIZE, CFG(max_message), 1 * KiB, 1 * GiB, false, "1K to 1G"},
	{"max_connections_per_uid", K_U32, CFG(max_connections_per_uid), 1, 65536, false, "1 to 65536"},
	{"max_connections", K_U32, CFG(max_connections), 1, 65536, false, "1 to 65536"},
	{"max_output_queue", K_SIZE, CFG(max_output_queue), 4 * KiB, 64 * GiB, false, "4K to 64G"},
	{"rescan_interval", K_SECONDS, CFG(rescan_seconds), 0.1, 86400, false, "0.1s to 24h"},
	{"shutdown_grace", K_SECONDS, CFG(shutdown_grace_seconds), 0, 86400, false, "0 to 24h"},
	{"quarantine_after", K_U32, CFG(quarantine_after), 1, 1000, false, "1 to 1000"},
	{"max_buffered", K_SIZE, CFG(max_buffered), 1 * MiB, 64 * GiB, false, "1M to 64G"},
	{"idle_timeout", K_SECONDS, CFG(idle_timeout_seconds), 1, 86400, true, "0 for never, or 1s to 24h"},
	{NULL, 0, 0, 0, 0, false, NULL},
};

static const key_def sandbox_keys[] = {
	{"enabled", K_BOOL, CFG(sandbox_enabled), 0, 0, false, NULL},
	{"job_users", K_UID_RANGE, 0, 0, 0, false, NULL},
	{"require_landlock", K_BOOL, CFG(sandbox_require_landlock), 0, 0, false, NULL},
	{NULL, 0, 0, 0, 0, false, NULL},
};

static const key_def limits_keys[] = {
	{"wall_time", K_SECONDS, CFG(job_wall_seconds), 0.1, 8760 * 3600.0, false, "0.1s to 8760h"},
	{"kill_grace", K_SECONDS, CFG(kill_grace_seconds), 0, 3600, false, "0 to 1h"},
	{"address_space", K_SIZE, CFG(job_address_space), 64 * MiB, 1024 * TiB, true,
	 "0 for no limit, or 64M to 1024T"},
	{"cpu_time", K_CPU_SECONDS, CFG(job_cpu_seconds), 1, 8760 * 3600.0, true, "0 for no limit, or 1s to 8760h"},
	{"open_files", K_U64, CFG(job_open_files), 16, 1048576, false, "16 to 1048576"},
	{"threads", K_U32, CFG(job_threads), 1, 1024, false, "1 to 1024"},
	{"max_result", K_SIZE, CFG(job_max_result), 1 * KiB, 4 * GiB, false, "1K to 4G"},
	{"max_attempts", K_U32, CFG(job_max_attempts), 1, 100, false, "1 to 100"},
	{NULL, 0, 0, 0, 0, false, NULL},
};

static const key_def team_keys[] = {
	{"members", K_UIDS, 0, 0, 0, false, NULL},
	{"groups", K_GIDS, 0, 0, 0, false, NULL},
	{"max_queued", K_U32, TEAM(max_queued), 0, 1000000, false, "0 for no cap, or up to 1000000"},
	{"max_running", K_U32, TEAM(max_running), 0, 1000000, false, "0 for no cap, or up to 1000000"},
	{NULL, 0, 0, 0, 0, false, NULL},
};

static const key_def dataset_keys[] = {
	{"file", K_PATH, DS(file), 0, 0, false, NULL},
	{"csv", K_PATHS, 0, 0, 0, false, NULL},
	{NULL, 0, 0, 0, 0, false, NULL},
};

static const key_def *const section_keys[] = {
	[SEC_SERVER] = server_keys,
	[SEC_LIMITS] = limits_keys,
	[SEC_TEAM] = team_keys,
	[SEC_DATASET] = dataset_keys,
	[SEC_SANDBOX] = sandbox_keys,
};

#define MAX_KEYS 16 /* of one section's table */

typedef struct sect {
	enum sec_kind kind;
	char *raw;              /* between the brackets as inih keeps it (checked against the handler's) */
	char *label;            /* raw without surrounding blanks: "team.nlp" */
	size_t index;           /* into teams or datasets */
	int line;               /* of the header */
	int key_line[MAX_KEYS]; /* where each key of the table was set; 0: not set */
} sect;

/* Who listed a uid first, for the one-team-per-user rule. */
typedef struct uid_owner {
	size_t team;
	int line;
} uid_owner;

typedef struct ctx {
	const char *name; /* the file, for messages */
	char *base_dir;   /* owned; NULL: relative paths are refused */
	const char *buf;
	size_t len, pos;
	int line;            /* of the line inih has now */
	bool indented;       /* that line starts with a blank (or, line 1, a BOM) */
	bool after_key;      /* inih's prev_name is set: an indented line continues the last key */
	const key_def *prev_def;
	rbd_config *c;
	sect *sects;
	size_t n_sects;
	long cur; /* index into sects; -1 before the first header */
	rbe_strmap *seen; /* section label → index into sects */
	rbe_strmap *uids; /* uid in decimal → index into owners */
	uid_owner *owners;
	size_t n_owners;
	bool failed;
	int failed_at; /* the line read when the error was found (not always the line it names) */
	int code;
	rbe_error *e;
} ctx;

/* text for a message: at most max bytes, control bytes (escape sequences, say) shown as '?'. */
static const char *clean(char *out, size_t size, const char *text, size_t max)
{
	size_t n = 0, i = 0;
	for (; text[i] && i < max && n + 1 < size; i++)
		out[n++] = ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) ? '?' : text[i];
	if (text[i] && n + 4 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Fill e as "NAME:LINE: [label] key: message" (line 0 leaves out ":LINE"; NULL label or key, their
 * part). Keeps the first error only: later ones are consequences. */
static int fail(ctx *x, int line, const char *label, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(ctx *x, int line, const char *label, const char *key, const char *fmt, ...)
{
	if (x->failed)
		return x->code;
	char where[300] = "", l[128], k[128], what[768];
	if (label && key)
		snprintf(where, sizeof(where), "[%s] %s: ", clean(l, sizeof(l), label, 60), clean(k, sizeof(k), key, 60));
	else if (label)
		snprintf(where, sizeof(where), "[%s]: ", clean(l, sizeof(l), label, 60));
	else if (key)
		snprintf(where, sizeof(where), "%s: ", clean(k, sizeof(k), key, 60));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	x->failed = true;
	x->failed_at = x->line;
	x->code = -EINVAL;
	if (line > 0)
		rbe_fail(x->e, x->code, "%s:%d: %s%s", x->name, line, where, what);
	else
		rbe_fail(x->e, x->code, "%s: %s%s", x->name, where, what);
	return x->code;
}

/* 'value' for a message. */
#define Q(buf, v) clean(buf, sizeof(buf), v, 80)

static bool is_blank(char ch)
{
	return isspace((unsigned char)ch) != 0;
}

/* ---- values ---- */

int rbd_config_parse_size(const char *text, uint64_t *out)
{
	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	uint64_t v = 0;
	bool over = false;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	unsigned shift = 0;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	default: break;
	}
	if (*p)
		return -EINVAL;
	if (over || v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int rbd_config_parse_duration(const char *text, double *out)
{
	/* By hand, not strtod: that would take "inf", "1e3", "0x10", " 5" and the locale's comma. */
	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	const char *p = text;
	double whole = 0;
	size_t int_digits = 0;
	for (; *p >= '0' && *p <= '9'; p++, int_digits++)
		whole = whole * 10 + (*p - '0');
	double frac = 0, scale = 1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		/* Nine digits are nanoseconds; more are accepted and ignored. */
		for (size_t n = 0; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9) {
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
	}
	double unit = 1;
	switch (*p) {
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	default: break;
	}
	if (*p)
		return -EINVAL;
	if (int_digits > 12)
		return -ERANGE;
	*out = (whole + frac / scale) * unit;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A path from the file: absolute as written, or relative to the file's directory. */
static int resolve_path(ctx *x, const char *label, const char *key, const char *v, char **out)
{
	char q[96];
	if (!*v)
		return fail(x, x->line, label, key, "empty value: needs a path");
	if (v[0] == '/') {
		*out = rbe_xstrdup(v);
		return 0;
	}
	if (v[0] == '~')
		return fail(x, x->line, label, key, "'%s': '~' is not expanded here; write the whole path", Q(q, v));
	if (!x->base_dir)
		return fail(x, x->line, label, key, "'%s' is relative, and there is no directory to resolve it against",
			    Q(q, v));
	while (v[0] == '.' && v[1] == '/') {
		v += 2;
		while (*v == '/')
			v++;
	}
	if (!*v || strcmp(v, ".") == 0) {
		*out = rbe_xstrdup(x->base_dir);
		return 0;
	}
	size_t nb = strlen(x->base_dir), nv = strlen(v);
	bool slash = nb > 0 && x->base_dir[nb - 1] == '/';
	char *p = rbe_xmalloc(nb + nv + 2);
	memcpy(p, x->base_dir, nb);
	if (!slash)
		p[nb++] = '/';
	memcpy(p + nb, v, nv + 1);
	*out = p;
	return 0;
}

/* A user's uid or a group's gid by name: getpwnam_r / getgrnam_r with a buffer that grows (a group
 * of thousands of members needs more than sysconf's suggestion). 0, -ENOENT (no such name) or
 * another -errno; *out is set only on success. */
static int lookup_id(const char *name, bool group, uint32_t *out)
{
	long hint = sysconf(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
	size_t cap = hint > 0 ? (size_t)hint : 16384;
	for (;;) {
		char *buf = rbe_xmalloc(cap);
		bool found;
		int r;
		if (group) {
			struct group gr, *res = NULL;
			r = getgrnam_r(name, &gr, buf, cap, &res);
			found = res != NULL;
			if (found)
				*out = gr.gr_gid;
		} else {
			struct passwd pw, *res = NULL;
			r = getpwnam_r(name, &pw, buf, cap, &res);
			found = res != NULL;
			if (found)
				*out = pw.pw_uid;
		}
		free(buf);
		if (found)
			return 0;
		if (r == ERANGE && cap < (64u << 20)) {
			cap *= 4;
			continue;
		}
		/* getpwnam_r(3), getgrnam_r(3): these also mean "not found". */
		if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
			return -ENOENT;
		return -r;
	}
}

/* A user or group: a number as it is (the account may come later), a name looked up now. */
static int parse_id(ctx *x, const char *label, const char *key, const char *v, bool group, uint32_t *out)
{
	char q[96];
	if (all_digits(v)) {
		uint64_t n;
		if (rbe_parse_uint(v, ID_MAX, &n) < 0)
			return fail(x, x->line, label, key, "'%s' is out of range for a %s id (at most %u)", Q(q, v),
				    group ? "group" : "user", ID_MAX);
		*out = (uint32_t)n;
		return 0;
	}
	for (const char *p = v; *p; p++)
		if (is_blank(*p))
			return fail(x, x->line, label, key, "'%s' is not a %s name (separate names with commas)",
				    Q(q, v), group ? "group" : "user");
	int r = lookup_id(v, group, out);
	if (r == -ENOENT)
		return fail(x, x->line, label, key, "no %s '%s' on this system", group ? "group" : "user", Q(q, v));
	if (r < 0) {
		fail(x, x->line, label, key, "cannot look up %s '%s': %s", group ? "group" : "user", Q(q, v),
		     strerror(-r));
		x->code = r;
		if (x->e)
			x->e->code = r;
		return r;
	}
	return 0;
}

/* ---- sections ---- */

static void *sect_base(ctx *x, const sect *s)
{
	switch (s->kind) {
	case SEC_TEAM:
		return &x->c->teams[s->index];
	case SEC_DATASET:
		return &x->c->datasets[s->index];
	default:
		return x->c;
	}
}

static int key_index(enum sec_kind kind, const char *name)
{
	const key_def *defs = section_keys[kind];
	for (int i = 0; defs[i].name; i++)
		if (strcmp(defs[i].name, name) == 0)
			return i;
	return -1;
}

/* Where key was set in s, or 0. */
static int line_of(const sect *s, const char *key)
{
	int i = key_index(s->kind, key);
	rbe_require(i >= 0);
	return s->key_line[i];
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static void add_section(ctx *x, enum sec_kind kind, const char *raw, size_t raw_len, const char *label,
			const char *name);

static int open_section(ctx *x, const char *raw, size_t raw_len)
{
	char q[96];
	if (raw_len >= INIH_MAX_SECTION) {
		char *t = rbe_xmalloc(raw_len + 1);
		memcpy(t, raw, raw_len);
		t[raw_len] = '\0';
		fail(x, x->line, NULL, NULL, "[%s]: section name longer than %d characters", Q(q, t),
		     INIH_MAX_SECTION - 1);
		free(t);
		return x->code;
	}
	const char *a = raw, *b = raw + raw_len;
	while (a < b && is_blank(*a))
		a++;
	while (b > a && is_blank(b[-1]))
		b--;
	char label[INIH_MAX_SECTION];
	memcpy(label, a, (size_t)(b - a));
	label[b - a] = '\0';

	enum sec_kind kind;
	const char *name = NULL;
	if (strcmp(label, "server") == 0) {
		kind = SEC_SERVER;
	} else if (strcmp(label, "limits") == 0) {
		kind = SEC_LIMITS;
	} else if (strcmp(label, "sandbox") == 0) {
		kind = SEC_SANDBOX;
	} else if (strncmp(label, "team.", 5) == 0) {
		kind = SEC_TEAM;
		name = label + 5;
	} else if (strncmp(label, "dataset.", 8) == 0) {
		kind = SEC_DATASET;
		name = label + 8;
	} else {
		return fail(x, x->line, label, NULL,
			    "unknown section (expected [server], [limits], [sandbox], [dataset.NAME] or [team.NAME])");
	}
	if (name && !valid_name(name))
		return fail(x, x->line, label, NULL, "'%s' is not a valid %s name (letters, digits, '_', '.', '-')",
			    Q(q, name), kind == SEC_TEAM ? "team" : "dataset");
	long prev = rbe_strmap_get(x->seen, label);
	if (prev >= 0)
		return fail(x, x->line, label, NULL, "duplicate %s (first at line %d)",
			    kind == SEC_TEAM ? "team" : kind == SEC_DATASET ? "dataset" : "section",
			    x->sects[prev].line);

	add_section(x, kind, raw, raw_len, label, name);
	return 0;
}

/* Record a checked section (name: of the team or dataset, else NULL) and make it the current one. */
static void add_section(ctx *x, enum sec_kind kind, const char *raw, size_t raw_len, const char *label,
			const char *name)
{
	x->sects = rbe_xrealloc(x->sects, (x->n_sects + 1) * sizeof(*x->sects));
	sect *s = &x->sects[x->n_sects];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->raw = rbe_xmalloc(raw_len + 1);
	memcpy(s->raw, raw, raw_len);
	s->raw[raw_len] = '\0';
	s->label = rbe_xstrdup(label);
	s->line = x->line;
	rbd_config *c = x->c;
	if (kind == SEC_TEAM) {
		c->teams = rbe_xrealloc(c->teams, (c->n_teams + 1) * sizeof(*c->teams));
		memset(&c->teams[c->n_teams], 0, sizeof(*c->teams));
		c->teams[c->n_teams].name = rbe_xstrdup(name);
		s->index = c->n_teams++;
	} else if (kind == SEC_DATASET) {
		c->datasets = rbe_xrealloc(c->datasets, (c->n_datasets + 1) * sizeof(*c->datasets));
		memset(&c->datasets[c->n_datasets], 0, sizeof(*c->datasets));
		c->datasets[c->n_datasets].name = rbe_xstrdup(name);
		s->index = c->n_datasets++;
	}
	rbe_strmap_put(x->seen, label, (long)x->n_sects);
	x->cur = (long)x->n_sects++;
}

/* What only the whole section shows: a team without members, a dataset without one source. */
static int close_section(ctx *x, const sect *s)
{
	if (s->kind == SEC_TEAM) {
		const rbd_team_conf *t = &x->c->teams[s->index];
		int lm = line_of(s, "members"), lg = line_of(s, "groups"), lr = line_of(s, "max_running");
		if (lm && !t->n_uids)
			return fail(x, lm, s->label, "members", "empty list (name users, or leave the key out)");
		if (lg && !t->n_gids)
			return fail(x, lg, s->label, "groups", "empty list (name groups, or leave the key out)");
		if (!t->n_uids && !t->n_gids)
			return fail(x, s->line, s->label, NULL, "no members: set members = users and/or groups = groups");
		if (t->max_queued && t->max_running > t->max_queued)
			return fail(x, lr, s->label, "max_running",
				    "%u is more than max_queued (%u), which counts running jobs too", t->max_running,
				    t->max_queued);
	} else if (s->kind == SEC_DATASET) {
		const rbd_dataset_conf *d = &x->c->datasets[s->index];
		int lf = line_of(s, "file"), lc = line_of(s, "csv");
		if (lf && lc)
			return fail(x, lf > lc ? lf : lc, s->label, lf > lc ? "file" : "csv",
				    "both file (line %d) and csv (line %d) are set; a dataset has one source", lf, lc);
		if (lc && !d->n_csv)
			return fail(x, lc, s->label, "csv", "empty list (name CSV or JSONL files)");
		if (!lf && !lc)
			return fail(x, s->line, s->label, NULL,
				    "no source: set file = (a .rbds file) or csv = (CSV/JSONL files)");
	}
	return 0;
}

/* ---- keys ---- */

static int add_uid(ctx *x, const sect *s, const char *item)
{
	uint32_t id;
	int r = parse_id(x, s->label, "members", item, false, &id);
	if (r < 0)
		return r;
	char key[16], q[96];
	snprintf(key, sizeof(key), "%u", id);
	long o = rbe_strmap_get(x->uids, key);
	if (o >= 0) {
		const uid_owner *w = &x->owners[o];
		if (w->team == s->index)
			return fail(x, x->line, s->label, "members", "'%s' (uid %u) is listed twice", Q(q, item), id);
		return fail(x, x->line, s->label, "members",
			    "'%s' (uid %u) is already in [team.%s] (line %d); a user belongs to one team only",
			    Q(q, item), id, x->c->teams[w->team].name, w->line);
	}
	x->owners = rbe_xrealloc(x->owners, (x->n_owners + 1) * sizeof(*x->owners));
	x->owners[x->n_owners] = (uid_owner){s->index, x->line};
	rbe_strmap_put(x->uids, key, (long)x->n_owners++);
	rbd_team_conf *t = &x->c->teams[s->index];
	t->uids = rbe_xrealloc(t->uids, (t->n_uids + 1) * sizeof(*t->uids));
	t->uids[t->n_uids++] = (uid_t)id;
	return 0;
}

static int add_gid(ctx *x, const sect *s, const char *item)
{
	uint32_t id;
	int r = parse_id(x, s->label, "groups", item, true, &id);
	if (r < 0)
		return r;
	rbd_team_conf *t = &x->c->teams[s->index];
	char q[96];
	for (size_t i = 0; i < t->n_gids; i++)
		if (t->gids[i] == (gid_t)id)
			return fail(x, x->line, s->label, "groups", "'%s' (gid %u) is listed twice", Q(q, item), id);
	t->gids = rbe_xrealloc(t->gids, (t->n_gids + 1) * sizeof(*t->gids));
	t->gids[t->n_gids++] = (gid_t)id;
	return 0;
}

static int add_csv(ctx *x, const sect *s, const char *item)
{
	char *p;
	int r = resolve_path(x, s->label, "csv", item, &p);
	if (r < 0)
		return r;
	rbd_dataset_conf *d = &x->c->datasets[s->index];
	d->csv = rbe_xrealloc(d->csv, (d->n_csv + 2) * sizeof(*d->csv));
	d->csv[d->n_csv++] = p;
	d->csv[d->n_csv] = NULL;
	return 0;
}

/* A comma-separated list, item by item; empty items are skipped, so a list may end with a comma
 * where it continues on the next line. Emptiness of the whole list is close_section's. */
static int add_items(ctx *x, const sect *s, const key_def *d, const char *value)
{
	char *copy = rbe_xstrdup(value);
	int r = 0;
	char *p = copy;
	while (r == 0 && p) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		char *end = p + strlen(p);
		while (*p && is_blank(*p))
			p++;
		while (end > p && is_blank(end[-1]))
			*--end = '\0';
		if (*p) {
			if (d->kind == K_UIDS)
				r = add_uid(x, s, p);
			else if (d->kind == K_GIDS)
				r = add_gid(x, s, p);
			else
				r = add_csv(x, s, p);
		}
		p = comma ? comma + 1 : NULL;
	}
	free(copy);
	return r;
}

static int out_of_range(ctx *x, const sect *s, const key_def *d, const char *value)
{
	char q[96];
	return fail(x, x->line, s->label, d->name, "'%s' is out of range (%s)", Q(q, value), d->range);
}

/* K_PATH, K_SOCKET: a path, a socket's no longer than sockaddr_un holds. */
static int set_path(ctx *x, const sect *s, const key_def *d, const char *value, char **field)
{
	char q[96];
	char *p;
	int r = resolve_path(x, s->label, d->name, value, &p);
	if (r < 0)
		return r;
	size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;
	if (d->kind == K_SOCKET && strlen(p) > max) {
		fail(x, x->line, s->label, d->name, "'%s' is too long for a unix socket (at most %zu bytes)", Q(q, p), max);
		free(p);
		return x->code;
	}
	*field = p;
	return 0;
}

static int set_mode(ctx *x, const sect *s, const key_def *d, const char *value, uint32_t *field)
{
	char q[96];
	size_t n = strlen(value);
	if (n > 4 || strspn(value, "01234567") != n)
		return fail(x, x->line, s->label, d->name, "'%s' is not an octal mode (e.g. 0660)", Q(q, value));
	unsigned long m = strtoul(value, NULL, 8);
	if (m > 0777)
		return fail(x, x->line, s->label, d->name, "'%s' is out of range (0000 to 0777)", Q(q, value));
	*field = (uint32_t)m;
	return 0;
}

/* K_U32, K_U64, K_SIZE: a whole number or a size within the key's range. */
static int set_count(ctx *x, const sect *s, const key_def *d, const char *value, void *field)
{
	char q[96];
	uint64_t v;
	if (d->kind == K_SIZE) {
		int r = rbd_config_parse_size(value, &v);
		if (r == -EINVAL)
			return fail(x, x->line, s->label, d->name, "'%s' is not a size (e.g. 1048576, 512K, 8M, 2G)",
				    Q(q, value));
		if (r < 0 || (!(d->zero_ok && v == 0) && ((double)v < d->min || (double)v > d->max)))
			return out_of_range(x, s, d, value);
		*(uint64_t *)field = v;
		return 0;
	}
	if (!all_digits(value))
		return fail(x, x->line, s->label, d->name, "'%s' is not a whole number", Q(q, value));
	if (rbe_parse_uint(value, UINT64_MAX, &v) < 0 || (double)v < d->min || (double)v > d->max)
		return out_of_range(x, s, d, value);
	if (d->kind == K_U32)
		*(uint32_t *)field = (uint32_t)v;
	else
		*(uint64_t *)field = v;
	return 0;
}

/* K_SECONDS, K_CPU_SECONDS: a duration within the key's range; RLIMIT_CPU counts whole seconds. */
static int set_duration(ctx *x, const sect *s, const key_def *d, const char *value, void *field)
{
	char q[96];
	double v;
	int r = rbd_config_parse_duration(value, &v);
	if (r == -EINVAL)
		return fail(x, x->line, s->label, d->name, "'%s' is not a duration (e.g. 90, 30s, 5m)", Q(q, value));
	if (r < 0 || (!(d->zero_ok && v == 0) && (v < d->min || v > d->max)))
		return out_of_range(x, s, d, value);
	if (d->kind == K_SECONDS) {
		*(double *)field = v;
		return 0;
	}
	if (v != (double)(uint64_t)v)
		return fail(x, x->line, s->label, d->name, "'%s' is not a whole number of seconds", Q(q, value));
	*(uint64_t *)field = (uint64_t)v;
	return 0;
}

static int set_bool(ctx *x, const sect *s, const key_def *d, const char *value, int *field)
{
	char q[96];
	if (strcmp(value, "true") && strcmp(value, "false"))
		return fail(x, x->line, s->label, d->name, "'%s' is not true or false", Q(q, value));
	*field = strcmp(value, "true") == 0;
	return 0;
}

/* FIRST-LAST: uids handed to jobs one each (uid = gid); never root, and not past ID_MAX. */
static int set_uid_range(ctx *x, const sect *s, const key_def *d, const char *value)
{
	char q[96], first[32], last[32];
	const char *dash = strchr(value, '-');
	size_t n1 = dash ? (size_t)(dash - value) : 0;
	if (!dash || n1 == 0 || n1 >= sizeof(first) || strlen(dash + 1) >= sizeof(last))
		return fail(x, x->line, s->label, d->name, "'%s' is not a range of uids FIRST-LAST (e.g. 61000-61999)",
			    Q(q, value));
	memcpy(first, value, n1);
	first[n1] = '\0';
	snprintf(last, sizeof(last), "%s", dash + 1);
	uint64_t a, b;
	if (!all_digits(first) || !all_digits(last))
		return fail(x, x->line, s->label, d->name, "'%s' is not a range of uids FIRST-LAST (e.g. 61000-61999)",
			    Q(q, value));
	if (rbe_parse_uint(first, ID_MAX, &a) < 0 || rbe_parse_uint(last, ID_MAX, &b) < 0)
		return fail(x, x->line, s->label, d->name, "'%s' is out of range for user ids (at most %u)", Q(q, value),
			    ID_MAX);
	if (a == 0)
		return fail(x, x->line, s->label, d->name, "'%s' includes uid 0 (root); jobs never run as root",
			    Q(q, value));
	if (a > b)
		return fail(x, x->line, s->label, d->name, "'%s': the first uid is above the last", Q(q, value));
	x->c->sandbox_uid_first = (uint32_t)a;
	x->c->sandbox_uid_count = (uint32_t)(b - a + 1);
	return 0;
}

static int set_value(ctx *x, sect *s, const key_def *d, const char *value)
{
	char q[96];
	char *field = (char *)sect_base(x, s) + d->offset;
	/* inih takes values as written: quotes would end up in the path or name. */
	if (value[0] == '"' || value[0] == '\'')
		return fail(x, x->line, s->label, d->name, "%s: quotes are not needed (values are taken as written)",
			    Q(q, value));
	if (!*value && d->kind != K_UIDS && d->kind != K_GIDS && d->kind != K_PATHS)
		return fail(x, x->line, s->label, d->name, "empty value");
	switch (d->kind) {
	case K_PATH:
	case K_SOCKET:
		return set_path(x, s, d, value, (char **)field);
	case K_MODE:
		return set_mode(x, s, d, value, (uint32_t *)field);
	case K_GROUP: {
		uint32_t g;
		int r = parse_id(x, s->label, d->name, value, true, &g);
		if (r < 0)
			return r;
		*(gid_t *)field = (gid_t)g;
		if (d->offset == CFG(admin_gid))
			x->c->has_admin_group = 1;
		return 0;
	}
	case K_U32:
	case K_U64:
	case K_SIZE:
		return set_count(x, s, d, value, field);
	case K_SECONDS:
	case K_CPU_SECONDS:
		return set_duration(x, s, d, value, field);
	case K_UIDS:
	case K_GIDS:
	case K_PATHS:
		return add_items(x, s, d, value);
	case K_BOOL:
		return set_bool(x, s, d, value, (int *)field);
	case K_UID_RANGE:
		return set_uid_range(x, s, d, value);
	}
	rbe_require(!"unknown key kind");
	return -EINVAL;
}

static int set_key(ctx *x, const char *name, const char *value)
{
	if (!*name)
		return fail(x, x->line, x->cur >= 0 ? x->sects[x->cur].label : NULL, NULL,
			    "a line starts with '=' or ':' (no key name)");
	if (x->cur < 0)
		return fail(x, x->line, NULL, name,
			    "outside any section (keys go under [server], [limits], [sandbox], [dataset.NAME] or [team.NAME])");
	sect *s = &x->sects[x->cur];
	const key_def *defs = section_keys[s->kind];
	int k = key_index(s->kind, name);
	if (k < 0) {
		char known[512] = "";
		for (int i = 0; defs[i].name; i++) {
			if (i)
				strcat(known, ", ");
			strcat(known, defs[i].name);
		}
		return fail(x, x->line, s->label, name, "unknown key (known here: %s)", known);
	}
	if (s->key_line[k])
		return fail(x, x->line, s->label, name, "duplicate key (first set on line %d)", s->key_line[k]);
	s->key_line[k] = x->line;
	x->prev_def = &defs[k];
	return set_value(x, s, &defs[k], value);
}

/* An indented line after a key: more items of a list, or a mistake. */
static int continue_value(ctx *x, const char *value)
{
	sect *s = &x->sects[x->cur];
	const key_def *d = x->prev_def;
	rbe_require(d);
	if (d->kind == K_UIDS || d->kind == K_GIDS || d->kind == K_PATHS)
		return add_items(x, s, d, value);
	return fail(x, x->line, s->label, d->name,
		    "an indented line continues the value of %s, which takes one line (unindent the line if it is "
		    "a key of its own)",
		    d->name);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	ctx *x = user;
	rbe_require(!x->failed);
	/* read_line saw the same headers as inih. */
	rbe_require(strcmp(section, x->cur >= 0 ? x->sects[x->cur].raw : "") == 0);
	/* inih: an indented line after a named key continues it (comments never reach here). */
	if (x->after_key && x->indented)
		return continue_value(x, value) == 0;
	/* inih keeps name as prev_name: the next indented lines continue a named key. */
	x->after_key = *name != '\0';
	x->prev_def = NULL;
	return set_key(x, name, value) == 0;
}

/* ---- lines ---- */

/* Where inih starts reading line number lineno: past a UTF-8 BOM on line 1 and leading blanks. */
static const char *line_start(const char *line, int lineno)
{
	if (lineno == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
	    (unsigned char)line[2] == 0xBF)
		line += 3;
	while (is_blank(*line))
		line++;
	return line;
}

/* line's text without surrounding blanks (and the newline), for a message. */
static const char *line_text(char *out, size_t size, const char *line, int lineno)
{
	const char *start = line_start(line, lineno), *end = start + strcspn(start, "\n");
	while (end > start && is_blank(end[-1]))
		end--;
	size_t n = (size_t)(end - start) < size ? (size_t)(end - start) : size - 1;
	memcpy(out, start, n);
	out[n] = '\0';
	return out;
}

/* A [section] header (start at its '['): inih keeps the text up to the first ']', unless an
 * inline comment (" ;") comes first, and then refuses the line. Closes the section before. */
static int header(ctx *x, const char *line, const char *start)
{
	char q[96], text[256];
	line_text(text, sizeof(text), line, x->line);
	const char *close = start + 1;
	while (*close && *close != ']' && !(*close == ';' && is_blank(close[-1])))
		close++;
	if (*close != ']')
		return fail(x, x->line, NULL, NULL, "'%s': a section header needs a closing ']'", Q(q, text));
	const char *after = line_start(close + 1, 0);
	if (*after && *after != ';' && *after != '#')
		return fail(x, x->line, NULL, NULL, "'%s': text after a section header (keys go on lines of their own)",
			    Q(q, text));
	if (x->cur >= 0 && close_section(x, &x->sects[x->cur]) < 0)
		return x->code;
	x->after_key = false; /* inih: prev_name = "" */
	x->prev_def = NULL;
	return open_section(x, start + 1, (size_t)(close - start - 1));
}

/* inih's reader: one line per call, counted (see INIH_MAX_SECTION above). */
static char *read_line(char *str, int num, void *stream)
{
	ctx *x = stream;
	if (x->failed || x->pos >= x->len)
		return NULL;
	const char *p = x->buf + x->pos;
	size_t rest = x->len - x->pos;
	const char *nl = memchr(p, '\n', rest);
	size_t n = nl ? (size_t)(nl - p) + 1 : rest;
	x->line++;
	x->pos += n;
	if (memchr(p, '\0', n)) {
		fail(x, x->line, NULL, NULL, "a NUL byte in the line (not a text file?)");
		return NULL;
	}
	if (num < 2 || n > (size_t)num - 1) {
		fail(x, x->line, NULL, NULL,
		     "line longer than %d characters (inih's limit); split a long list over indented lines",
		     num - 2);
		return NULL;
	}
	memcpy(str, p, n);
	str[n] = '\0';
	const char *start = line_start(str, x->line);
	x->indented = start > str;
	/* inih's order: a comment, else a continuation, else a header. */
	if (*start == '[' && !(x->after_key && x->indented) && header(x, str, start) < 0)
		return NULL;
	return str;
}

/* inih could not parse line r, before any error of ours: a line with no '=' or ':'. */
static void syntax_error(ctx *x, int r)
{
	const char *p = x->buf, *end = x->buf + x->len;
	for (int i = 1; i < r && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	char q[96], text[256];
	line_text(text, sizeof(text), p, r);
	const char *label = NULL;
	for (size_t i = x->n_sects; i-- > 0 && !label;)
		if (x->sects[i].line < r)
			label = x->sects[i].label;
	x->failed = false; /* this error came first */
	fail(x, r, label, NULL, "'%s': expected key = value, a [section] or a comment", Q(q, text));
}

/* ---- the whole file ---- */

static void set_defaults(rbd_config *c)
{
	c->socket_mode = 0660;
	c->socket_gid = (gid_t)-1;
	c->admin_gid = (gid_t)-1;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = cpus < 1 ? 1 : cpus > 1024 ? 1024 : (uint32_t)cpus;
	c->max_message = 1048576;
	c->max_connections_per_uid = 16;
	c->max_connections = 256;
	c->max_output_queue = 8u << 20;
	c->max_buffered = 64u << 20;
	c->idle_timeout_seconds = 300;
	c->sandbox_enabled = 1;
	c->sandbox_require_landlock = 1;
	c->rescan_seconds = 5;
	c->shutdown_grace_seconds = 30;
	c->quarantine_after = 3;
	c->job_wall_seconds = 3600;
	c->job_max_result = 64 * (uint64_t)1 << 20;
	c->job_max_attempts = 3;
	c->kill_grace_seconds = 5;
	c->job_address_space = 8ull << 30;
	c->job_cpu_seconds = 0;
	c->job_open_files = 256;
	c->job_threads = 1;
}

static int check_required(ctx *x)
{
	static const char *const required[] = {"state_dir", "plugin_dir"};
	long si = rbe_strmap_get(x->seen, "server");
	for (size_t i = 0; i < sizeof(required) / sizeof(*required); i++) {
		if (si < 0)
			return fail(x, 0, "server", required[i], "required");
		if (!line_of(&x->sects[si], required[i]))
			return fail(x, x->sects[si].line, "server", required[i], "required");
	}
	return 0;
}

/* A job running as a team member's uid could reach that member's files and processes. */
static int check_job_users(ctx *x)
{
	const rbd_config *c = x->c;
	if (!c->sandbox_uid_count)
		return 0;
	long si = rbe_strmap_get(x->seen, "sandbox");
	for (size_t t = 0; t < c->n_teams; t++)
		for (size_t i = 0; i < c->teams[t].n_uids; i++) {
			uint32_t u = c->teams[t].uids[i];
			if (u < c->sandbox_uid_first || u - c->sandbox_uid_first >= c->sandbox_uid_count)
				continue;
			char key[16];
			snprintf(key, sizeof(key), "%u", u);
			long o = rbe_strmap_get(x->uids, key);
			return fail(x, line_of(&x->sects[si], "job_users"), "sandbox", "job_users",
				    "uid %u is a member of [team.%s] (line %d); job users must be uids no one logs in as",
				    u, c->teams[t].name, o >= 0 ? x->owners[o].line : 0);
		}
	return 0;
}

/* path for c->path; base_dir NULL refuses relative paths. */
static int parse_buffer(const char *buf, size_t len, const char *path, const char *base_dir, rbd_config **out,
			rbe_error *e)
{
	ctx x = {0};
	x.name = path;
	x.buf = buf;
	x.len = len;
	x.cur = -1;
	x.e = e;
	x.seen = rbe_strmap_new();
	x.uids = rbe_strmap_new();
	if (base_dir)
		x.base_dir = rbe_xstrdup(base_dir);
	x.c = rbe_xcalloc(1, sizeof(*x.c));
	x.c->path = rbe_xstrdup(path);
	set_defaults(x.c);

	int r = ini_parse_stream(read_line, &x, on_key, &x);
	/* inih goes on after a line it cannot parse, and our checks may then fail on a later line:
	 * the first error wins. r is on_key's own line when that failed first. */
	if (r > 0 && (!x.failed || r < x.failed_at))
		syntax_error(&x, r);
	else if (!x.failed && r < 0)
		fail(&x, 0, NULL, NULL, "inih failed (%d)", r);
	if (!x.failed && x.cur >= 0)
		close_section(&x, &x.sects[x.cur]);
	if (!x.failed)
		check_required(&x);
	if (!x.failed)
		check_job_users(&x);
	if (!x.failed && !x.c->socket_path)
		x.c->socket_path = rbe_xstrdup("/run/rbd/rbd.sock");

	for (size_t i = 0; i < x.n_sects; i++) {
		free(x.sects[i].raw);
		free(x.sects[i].label);
	}
	free(x.sects);
	free(x.owners);
	rbe_strmap_free(x.seen);
	rbe_strmap_free(x.uids);
	free(x.base_dir);
	if (x.failed) {
		rbd_config_free(x.c);
		return x.code;
	}
	*out = x.c;
	return 0;
}

/* path made absolute against the working directory, without resolving symbolic links: relative
 * paths in the file then follow the name the administrator gave. Owned. */
static int absolute(const char *path, char **out, rbe_error *e)
{
	if (path[0] == '/') {
		*out = rbe_xstrdup(path);
		return 0;
	}
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return rbe_fail(e, -errno, "%s: cannot find the working directory: %s", path, strerror(errno));
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	size_t nc = strlen(cwd), np = strlen(path);
	char *p = rbe_xmalloc(nc + np + 2);
	memcpy(p, cwd, nc);
	if (nc == 0 || cwd[nc - 1] != '/')
		p[nc++] = '/';
	memcpy(p + nc, path, np + 1);
	free(cwd);
	*out = p;
	return 0;
}

int rbd_config_load(const char *path, rbd_config **out, rbe_error *e)
{
	if (!path || !*path)
		return rbe_fail(e, -EINVAL, "no configuration file given");
	_cleanup_free_ char *abs = NULL;
	int r = absolute(path, &abs, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	r = rbe_read_file(abs, &data, &len, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = rbe_xstrdup(abs);
	char *slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	return parse_buffer(data, len, abs, dir, out, e);
}

int rbd_config_parse(const char *text, const char *display_name, const char *base_dir, rbd_config **out,
		     rbe_error *e)
{
	if (!text)
		return rbe_fail(e, -EINVAL, "no configuration text given");
	_cleanup_free_ char *base = NULL;
	if (base_dir) {
		int r = absolute(base_dir, &base, e);
		if (r < 0)
			return r;
	}
	return parse_buffer(text, strlen(text), display_name ? display_name : "<config>", base, out, e);
}

void rbd_config_free(rbd_config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->socket_path);
	free(c->state_dir);
	free(c->plugin_dir);
	for (size_t i = 0; i < c->n_teams; i++) {
		free(c->teams[i].name);
		free(c->teams[i].uids);
		free(c->teams[i].gids);
	}
	free(c->teams);
	for (size_t i = 0; i < c->n_datasets; i++) {
		free(c->datasets[i].name);
		free(c->datasets[i].file);
		for (size_t j = 0; j < c->datasets[i].n_csv; j++)
			free(c->datasets[i].csv[j]);
		free(c->datasets[i].csv);
	}
	free(c->datasets);
	free(c);
}

/* ---- lookups ---- */

static bool has_gid(const gid_t *gids, size_t n, gid_t g)
{
	for (size_t i = 0; i < n; i++)
		if (gids[i] == g)
			return true;
	return false;
}

const rbd_team_conf *rbd_config_team_of(const rbd_config *c, uid_t uid, gid_t gid, const gid_t *groups,
					size_t n_groups)
{
	if (!c)
		return NULL;
	/* A uid is in one team at most (the parser makes sure), and naming a user beats a group. */
	for (size_t i = 0; i < c->n_teams; i++)
		for (size_t j = 0; j < c->teams[i].n_uids; j++)
			if (c->teams[i].uids[j] == uid)
				return &c->teams[i];
	for (size_t i = 0; i < c->n_teams; i++) {
		const rbd_team_conf *t = &c->teams[i];
		if (has_gid(t->gids, t->n_gids, gid))
			return t;
		for (size_t k = 0; groups && k < n_groups; k++)
			if (has_gid(t->gids, t->n_gids, groups[k]))
				return t;
	}
	return NULL;
}

int rbd_config_is_admin(const rbd_config *c, uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups)
{
	if (uid == 0)
		return 1;
	if (!c || !c->has_admin_group)
		return 0;
	if (gid == c->admin_gid)
		return 1;
	return groups && has_gid(groups, n_groups, c->admin_gid) ? 1 : 0;
}

const rbd_dataset_conf *rbd_config_dataset(const rbd_config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_datasets; i++)
		if (strcmp(c->datasets[i].name, name) == 0)
			return &c->datasets[i];
	return NULL;
}

const rbd_team_conf *rbd_config_team(const rbd_config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_teams; i++)
		if (strcmp(c->teams[i].name, name) == 0)
			return &c->teams[i];
	return NULL;
}
