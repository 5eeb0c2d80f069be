/* config.h — rbd's configuration file (conf/rbd.ini, read with inih): parse and check. */
#ifndef RBD_DAEMON_CONFIG_H
#define RBD_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/util.h"

typedef struct rbd_team_conf {
	char *name;                  /* from [team.NAME] */
	uid_t *uids;                 /* members = user names or numbers, comma-separated */
	size_t n_uids;
	gid_t *gids;                 /* groups = group names or numbers: every member of these */
	size_t n_gids;
	uint32_t max_queued;         /* queued + running jobs the team may have; 0: no cap */
	uint32_t max_running;        /* jobs of the team running at once; 0: no cap */
} rbd_team_conf;

typedef struct rbd_dataset_conf {
	char *name;   /* from [dataset.NAME] */
	char *file;   /* file = a .rbds file, or NULL */
	char **csv;   /* csv = source CSV/JSONL files to import at start (NULL-terminated), or NULL */
	size_t n_csv;
} rbd_dataset_conf;

typedef struct rbd_config {
	char *path;             /* the file read (absolute) */
	/* [server] */
	char *socket_path;      /* socket = (default /run/rbd/rbd.sock) */
	uint32_t socket_mode;   /* socket_mode = octal (default 0660) */
	gid_t socket_gid;       /* socket_group = name or number; (gid_t)-1: leave as created */
	char *state_dir;        /* state_dir = (default /var/lib/rbd): jobs.db, plugin store */
	char *plugin_dir;       /* plugin_dir = the directory watched for router .so files */
	uint32_t workers;       /* workers = jobs running at once (default: online CPUs) */
	gid_t admin_gid;        /* admin_group = name or number; members see every team's jobs */
	int has_admin_group;
	uint64_t max_message;   /* max_message = bytes (default 1048576) */
	uint32_t max_connections_per_uid; /* default 16 */
	uint32_t max_connections;         /* default 256 */
	uint64_t max_output_queue;        /* bytes queued to one client before it is dropped (default 8 MiB) */
	double rescan_seconds;            /* rescan_interval = plugin dir rescan period (default 5) */
	double shutdown_grace_seconds;    /* shutdown_grace = SIGTERM: wait for running jobs (default 30) */
	uint32_t quarantine_after;        /* quarantine_after = crashes of one router file before
					   * it is quarantined until it changes (default 3) */
	uint64_t max_buffered;            /* bytes held for all clients together: unsent replies,
					   * unread calls (default 64 MiB) */
	double idle_timeout_seconds;      /* idle_timeout = a connection with nothing pending is closed
					   * after this long (default 300; 0: never) */
	/* [limits]: per job */
	double job_wall_seconds;          /* wall_time = seconds (default 3600) */
	double kill_grace_seconds;        /* kill_grace = seconds between TERM and KILL (default 5) */
	uint64_t job_address_space;       /* address_space = bytes, K/M/G suffixes (default 8G; 0: none) */
	uint64_t job_cpu_seconds;         /* cpu_time = seconds (default 0: none) */
	uint64_t job_open_files;          /* open_files = (default 256) */
	uint32_t job_threads;             /* threads = CPU threads a router may use (default 1) */
	uint64_t job_max_result;          /* max_result = bytes of a job's result (default 64 MiB) */
	uint32_t job_max_attempts;        /* max_attempts = starts of a job that rbd's own stops or
					   * crashes interrupt before it fails (default 3) */
	/* [sandbox]: how rbd-worker confines a job */
	int sandbox_enabled;              /* enabled = true|false (default true; false: logged at start) */
	uint32_t sandbox_uid_first;       /* job_users = FIRST-LAST: one uid (= gid) per job when rbd */
	uint32_t sandbox_uid_count;       /* runs as root; count 0: not set */
	int sandbox_require_landlock;     /* require_landlock = true|false (default true) */
	rbd_team_conf *teams;
	size_t n_teams;
	rbd_dataset_conf *datasets;
	size_t n_datasets;
} rbd_config;

/* Read path. Any problem — unknown section or key, bad value, duplicate team or dataset,
 * a uid in two teams, missing required key, an inih syntax error — is refused with
 * e->msg "PATH:LINE: [section] key: problem". Relative paths in the file are resolved against
 * the file's directory. Owned result: rbd_config_free. */
int rbd_config_load(const char *path, rbd_config **out, rbe_error *e);

/* The same from text (tests, fuzzing); relative paths resolve against base_dir. */
int rbd_config_parse(const char *text, const char *display_name, const char *base_dir, rbd_config **out,
		     rbe_error *e);

void rbd_config_free(rbd_config *c); /* accepts NULL */

/* The team of a caller: a team listing uid, else the first team listing gid or one of groups.
 * NULL when the caller is in no team. */
const rbd_team_conf *rbd_config_team_of(const rbd_config *c, uid_t uid, gid_t gid, const gid_t *groups,
					size_t n_groups);

/* Whether the caller is an administrator: uid 0, or gid/groups contain admin_group. */
int rbd_config_is_admin(const rbd_config *c, uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);

const rbd_dataset_conf *rbd_config_dataset(const rbd_config *c, const char *name);

/* ---- Added with the parser (core/daemon/config.c) ----
 * The file in detail: [server] state_dir and plugin_dir are required (no default). Relative paths
 * resolve against the file's directory; for rbd_config_parse against base_dir (itself made absolute
 * against the working directory), and with base_dir NULL relative paths are refused. Users and
 * groups given as numbers are taken as they are; names are looked up when the file is read. A list
 * (members, groups, csv) may go on over indented lines; any other indented line after a key is
 * refused (inih would append it to the key's value). Lines are at most 198 characters (inih's
 * buffer) and section names at most 49; "key = value ; comment" is an inline comment, '#' only at
 * the start of a line. Ranges (a value outside is refused): workers 1-1024, max_message 1K-1G,
 * max_connections(_per_uid) 1-65536, max_output_queue 4K-64G, max_buffered 1M-64G, idle_timeout 0 or
 * 1s-24h, rescan_interval 0.1s-24h,
 * shutdown_grace 0-24h, quarantine_after 1-1000, wall_time 0.1s-8760h, kill_grace 0-1h,
 * address_space 0 or 64M-1024T, cpu_time 0 or 1s-8760h (whole seconds), open_files 16-1048576,
 * threads 1-1024, max_result 1K-4G, max_attempts 1-100, a team's max_queued / max_running 0-1000000 with max_running <= max_queued when
 * both are set. [sandbox]: enabled and require_landlock are true or false; job_users FIRST-LAST
 * never includes uid 0 nor a uid a team lists as a member. Every problem is -EINVAL, except a failing user or group database (its -errno). */

/* A size: decimal bytes with an optional binary suffix K, M, G or T (either case): "512K" is
 * 524288. 0, -EINVAL (not a size) or -ERANGE (over 2^64 - 1); *out is untouched on failure. */
int rbd_config_parse_size(const char *text, uint64_t *out);

/* A duration in seconds: a decimal number ("90", "0.5") with an optional suffix s, m or h. 0,
 * -EINVAL (not a duration: also "inf", "1e3", "-1", " 5") or -ERANGE (13 or more whole digits);
 * *out is untouched on failure. */
int rbd_config_parse_duration(const char *text, double *out);

/* The team called name, or NULL. Borrowed from c. */
const rbd_team_conf *rbd_config_team(const rbd_config *c, const char *name);

#endif
