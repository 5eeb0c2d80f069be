/* test_config.c — rbd's configuration file: every key, the defaults, each refusal with its exact
 * file:line, path resolution, team and admin lookups, the example conf/rbd.ini. */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"

#define NAME "/etc/rbd/rbd.ini"
#define BASE "/etc/rbd"

/* Lines 1-3; what a test appends starts on line 4. */
#define SERVER                                                                                     \
	"[server]\n"                                                                               \
	"state_dir = /var/lib/rbd\n"                                                               \
	"plugin_dir = /var/lib/rbd/routers\n"

static rbd_config *parse_ok(const char *text)
{
	rbd_config *c = NULL;
	rbe_error e = {0};
	int r = rbd_config_parse(text, NAME, BASE, &c, &e);
	cr_assert_eq(r, 0, "refused (%d): %s\n--- text:\n%s", r, e.msg, text);
	cr_assert_not_null(c);
	return c;
}

/* Refused with exactly msg, and *out untouched. */
static void expect_refused(const char *text, const char *msg)
{
	rbd_config *c = (rbd_config *)0x1;
	rbe_error e = {0};
	int r = rbd_config_parse(text, NAME, BASE, &c, &e);
	cr_assert_eq(r, -EINVAL, "expected -EINVAL, got %d (%s)\n--- text:\n%s", r, e.msg, text);
	cr_assert_eq(c, (rbd_config *)0x1, "output touched on failure");
	cr_assert_eq(e.code, -EINVAL);
	cr_assert_str_eq(e.msg, msg, "\n got: %s\nwant: %s", e.msg, msg);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static char *temp_dir(void)
{
	static char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/rbcfg.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void remove_tree(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* An absolute path of len characters: '/' and then c repeated. buf holds len + 1 bytes. */
static void long_path(char *buf, size_t len, char c)
{
	memset(buf, c, len);
	buf[0] = '/';
	buf[len] = '\0';
}

/* The [server] and [limits] numbers (everything but the paths), as a test expects them. */
typedef struct settings {
	uint32_t socket_mode;
	gid_t socket_gid;
	uint32_t workers;
	int has_admin_group;
	gid_t admin_gid; /* checked with has_admin_group only */
	uint64_t max_message;
	uint32_t max_connections_per_uid, max_connections;
	uint64_t max_output_queue;
	double rescan_seconds, shutdown_grace_seconds;
	uint32_t quarantine_after;
	double job_wall_seconds, kill_grace_seconds;
	uint64_t job_address_space, job_cpu_seconds, job_open_files;
	uint32_t job_threads;
} settings;

static void expect_settings(const rbd_config *c, const settings *want)
{
	cr_assert_eq(c->socket_mode, want->socket_mode);
	cr_assert_eq(c->socket_gid, want->socket_gid);
	cr_assert_eq(c->workers, want->workers);
	cr_assert_eq(c->has_admin_group, want->has_admin_group);
	if (want->has_admin_group)
		cr_assert_eq(c->admin_gid, want->admin_gid);
	cr_assert_eq(c->max_message, want->max_message);
	cr_assert_eq(c->max_connections_per_uid, want->max_connections_per_uid);
	cr_assert_eq(c->max_connections, want->max_connections);
	cr_assert_eq(c->max_output_queue, want->max_output_queue);
	cr_assert_float_eq(c->rescan_seconds, want->rescan_seconds, 1e-12);
	cr_assert_float_eq(c->shutdown_grace_seconds, want->shutdown_grace_seconds, 1e-12);
	cr_assert_eq(c->quarantine_after, want->quarantine_after);
	cr_assert_float_eq(c->job_wall_seconds, want->job_wall_seconds, 1e-12);
	cr_assert_float_eq(c->kill_grace_seconds, want->kill_grace_seconds, 1e-12);
	cr_assert_eq(c->job_address_space, want->job_address_space);
	cr_assert_eq(c->job_cpu_seconds, want->job_cpu_seconds);
	cr_assert_eq(c->job_open_files, want->job_open_files);
	cr_assert_eq(c->job_threads, want->job_threads);
}

/* ---- accepted ---- */

Test(config, full_file_sets_every_key)
{
	rbd_config *c = parse_ok("; a comment\n"
				 "# another\n"
				 "[server]\n"
				 "socket = /run/x/rbd.sock\n"
				 "socket_mode = 0640\n"
				 "socket_group = 4321\n"
				 "state_dir = /srv/rbd\n"
				 "plugin_dir = /srv/rbd/routers\n"
				 "workers = 3\n"
				 "admin_group = 4322\n"
				 "max_message = 2M\n"
				 "max_connections_per_uid = 4\n"
				 "max_connections = 40\n"
				 "max_output_queue = 16M\n"
				 "rescan_interval = 2.5\n"
				 "shutdown_grace = 1m\n"
				 "quarantine_after = 5\n"
				 "[limits]\n"
				 "wall_time = 2h\n"
				 "kill_grace = 0.5s\n"
				 "address_space = 2G\n"
				 "cpu_time = 10m\n"
				 "open_files = 1024\n"
				 "threads = 4\n"
				 "[dataset.demo]\n"
				 "file = /data/demo.rbds\n"
				 "[dataset.raw-1.v2]\n"
				 "csv = /data/a.csv, /data/b.jsonl\n"
				 "[team.nlp]\n"
				 "members = 1001, 1002\n"
				 "groups = 3001\n"
				 "max_queued = 20\n"
				 "max_running = 2\n"
				 "[team.vision_2]\n"
				 "groups = 3002, 3003\n");
	cr_assert_str_eq(c->path, NAME);
	cr_assert_str_eq(c->socket_path, "/run/x/rbd.sock");
	cr_assert_str_eq(c->state_dir, "/srv/rbd");
	cr_assert_str_eq(c->plugin_dir, "/srv/rbd/routers");
	expect_settings(c, &(settings){
		.socket_mode = 0640, .socket_gid = 4321, .workers = 3, .has_admin_group = 1, .admin_gid = 4322,
		.max_message = 2u << 20, .max_connections_per_uid = 4, .max_connections = 40,
		.max_output_queue = 16u << 20, .rescan_seconds = 2.5, .shutdown_grace_seconds = 60,
		.quarantine_after = 5, .job_wall_seconds = 7200, .kill_grace_seconds = 0.5,
		.job_address_space = 2ull << 30, .job_cpu_seconds = 600, .job_open_files = 1024, .job_threads = 4});

	cr_assert_eq(c->n_datasets, 2);
	cr_assert_str_eq(c->datasets[0].name, "demo");
	cr_assert_str_eq(c->datasets[0].file, "/data/demo.rbds");
	cr_assert_null(c->datasets[0].csv);
	cr_assert_eq(c->datasets[0].n_csv, 0);
	cr_assert_str_eq(c->datasets[1].name, "raw-1.v2");
	cr_assert_null(c->datasets[1].file);
	cr_assert_eq(c->datasets[1].n_csv, 2);
	cr_assert_str_eq(c->datasets[1].csv[0], "/data/a.csv");
	cr_assert_str_eq(c->datasets[1].csv[1], "/data/b.jsonl");
	cr_assert_null(c->datasets[1].csv[2], "csv is NULL-terminated");

	cr_assert_eq(c->n_teams, 2);
	const rbd_team_conf *t = &c->teams[0];
	cr_assert_str_eq(t->name, "nlp");
	cr_assert_eq(t->n_uids, 2);
	cr_assert_eq(t->uids[0], 1001);
	cr_assert_eq(t->uids[1], 1002);
	cr_assert_eq(t->n_gids, 1);
	cr_assert_eq(t->gids[0], 3001);
	cr_assert_eq(t->max_queued, 20);
	cr_assert_eq(t->max_running, 2);
	t = &c->teams[1];
	cr_assert_str_eq(t->name, "vision_2");
	cr_assert_eq(t->n_uids, 0);
	cr_assert_eq(t->n_gids, 2);
	cr_assert_eq(t->gids[1], 3003);
	cr_assert_eq(t->max_queued, 0, "no cap by default");
	cr_assert_eq(t->max_running, 0);
	rbd_config_free(c);
}

Test(config, defaults)
{
	rbd_config *c = parse_ok(SERVER);
	cr_assert_str_eq(c->socket_path, "/run/rbd/rbd.sock");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t workers = (uint32_t)(cpus < 1 ? 1 : cpus > 1024 ? 1024 : cpus);
	expect_settings(c, &(settings){
		.socket_mode = 0660, .socket_gid = (gid_t)-1, .workers = workers, .has_admin_group = 0,
		.max_message = 1048576, .max_connections_per_uid = 16, .max_connections = 256,
		.max_output_queue = 8u << 20, .rescan_seconds = 5, .shutdown_grace_seconds = 30,
		.quarantine_after = 3, .job_wall_seconds = 3600, .kill_grace_seconds = 5,
		.job_address_space = 8ull << 30, .job_cpu_seconds = 0, .job_open_files = 256, .job_threads = 1});
	cr_assert_eq(c->n_teams, 0);
	cr_assert_null(c->teams);
	cr_assert_eq(c->n_datasets, 0);
	cr_assert_null(c->datasets);
	rbd_config_free(c);
}

Test(config, syntax_variants_inih_accepts)
{
	/* BOM, CRLF, blanks around names, "key: value", inline " ; comment", indented keys before any
	 * key of the section, a header with blanks and a comment after it. */
	rbd_config *c = parse_ok("\xEF\xBB\xBF[ server ]   ; the server\r\n"
				 "  state_dir   =   /var/lib/rbd   ; where jobs.db lives\r\n"
				 "plugin_dir: /p\r\n"
				 "\r\n"
				 "[limits] # per job\n"
				 "wall_time=90\n");
	cr_assert_str_eq(c->state_dir, "/var/lib/rbd");
	cr_assert_str_eq(c->plugin_dir, "/p");
	cr_assert_float_eq(c->job_wall_seconds, 90, 1e-12);
	rbd_config_free(c);
}

Test(config, list_goes_on_over_indented_lines)
{
	rbd_config *c = parse_ok(SERVER "[team.a]\n"
					"members =\n"
					"    1001,\n"
					"    1002, 1003\n"
					"groups = 7,\n"
					"\t8\n"
					"[dataset.d]\n"
					"csv = one.csv,\n"
					"      sub/two.jsonl\n");
	cr_assert_eq(c->teams[0].n_uids, 3);
	cr_assert_eq(c->teams[0].uids[2], 1003);
	cr_assert_eq(c->teams[0].n_gids, 2);
	cr_assert_eq(c->teams[0].gids[1], 8);
	cr_assert_eq(c->datasets[0].n_csv, 2);
	cr_assert_str_eq(c->datasets[0].csv[0], "/etc/rbd/one.csv");
	cr_assert_str_eq(c->datasets[0].csv[1], "/etc/rbd/sub/two.jsonl");
	rbd_config_free(c);
}

Test(config, user_and_group_names_are_looked_up)
{
	/* root (uid 0, gid 0) exists everywhere; so does the user running the test. */
	struct passwd *pw = getpwuid(getuid());
	cr_assert_not_null(pw);
	struct group *gr = getgrgid(0);
	cr_assert_not_null(gr);
	char text[1024];
	snprintf(text, sizeof(text),
		 SERVER "socket_group = %s\n"
			"admin_group = %s\n"
			"[team.a]\n"
			"members = %s\n"
			"groups = %s, 55\n",
		 gr->gr_name, gr->gr_name, pw->pw_name, gr->gr_name);
	rbd_config *c = parse_ok(text);
	cr_assert_eq(c->socket_gid, 0);
	cr_assert_eq(c->admin_gid, 0);
	cr_assert_eq(c->has_admin_group, 1);
	cr_assert_eq(c->teams[0].n_uids, 1);
	cr_assert_eq(c->teams[0].uids[0], getuid());
	cr_assert_eq(c->teams[0].n_gids, 2);
	cr_assert_eq(c->teams[0].gids[0], 0);
	cr_assert_eq(c->teams[0].gids[1], 55);
	rbd_config_free(c);
}

Test(config, relative_paths_resolve_against_base_dir)
{
	rbd_config *c = parse_ok("[server]\n"
				 "socket = run/rbd.sock\n"
				 "state_dir = ./state\n"
				 "plugin_dir = .\n"
				 "[dataset.d]\n"
				 "file = ../data/d.rbds\n");
	cr_assert_str_eq(c->socket_path, "/etc/rbd/run/rbd.sock");
	cr_assert_str_eq(c->state_dir, "/etc/rbd/state");
	cr_assert_str_eq(c->plugin_dir, "/etc/rbd");
	cr_assert_str_eq(c->datasets[0].file, "/etc/rbd/../data/d.rbds");
	rbd_config_free(c);

	/* Without a base directory a relative path cannot mean anything. */
	rbd_config *out = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbd_config_parse("[server]\nstate_dir = s\nplugin_dir = /p\n", "x.ini", NULL, &out, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "x.ini:2: [server] state_dir: 's' is relative, and there is no directory to "
				"resolve it against");
	cr_assert_null(out);
	/* A relative base_dir is taken from the working directory. */
	char *cwd = getcwd(NULL, 0);
	cr_assert_eq(rbd_config_parse("[server]\nstate_dir = s\nplugin_dir = /p\n", NULL, "conf", &out, &e), 0, "%s",
		     e.msg);
	char want[4096];
	snprintf(want, sizeof(want), "%s/conf/s", cwd);
	cr_assert_str_eq(out->state_dir, want);
	cr_assert_str_eq(out->path, "<config>");
	rbd_config_free(out);
	free(cwd);
}

Test(config, load_resolves_against_the_file_directory)
{
	char *dir = temp_dir();
	char sub[128], path[160];
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/rbd.ini", sub);
	const char *text = "[server]\n"
			   "socket = rbd.sock\n"
			   "state_dir = state\n"
			   "plugin_dir = /abs/routers\n"
			   "[dataset.x]\n"
			   "csv = a.csv, ../b.csv\n";
	write_file(path, text, strlen(text));

	rbd_config *c = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbd_config_load(path, &c, &e), 0, "%s", e.msg);
	char want[256];
	cr_assert_str_eq(c->path, path);
	snprintf(want, sizeof(want), "%s/rbd.sock", sub);
	cr_assert_str_eq(c->socket_path, want);
	snprintf(want, sizeof(want), "%s/state", sub);
	cr_assert_str_eq(c->state_dir, want);
	cr_assert_str_eq(c->plugin_dir, "/abs/routers");
	snprintf(want, sizeof(want), "%s/a.csv", sub);
	cr_assert_str_eq(c->datasets[0].csv[0], want);
	snprintf(want, sizeof(want), "%s/../b.csv", sub);
	cr_assert_str_eq(c->datasets[0].csv[1], want);
	rbd_config_free(c);

	/* A relative config path: made absolute against the working directory. */
	cr_assert_eq(chdir(dir), 0);
	c = NULL;
	cr_assert_eq(rbd_config_load("./etc/rbd.ini", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->path, path);
	snprintf(want, sizeof(want), "%s/state", sub);
	cr_assert_str_eq(c->state_dir, want);
	rbd_config_free(c);
	cr_assert_eq(chdir("/"), 0);
	remove_tree(dir);
}

/* ---- refused: the place and the problem ---- */

Test(config, missing_required_keys)
{
	expect_refused("[server]\nplugin_dir = /p\n", NAME ":1: [server] state_dir: required");
	expect_refused("; nothing\n\n[server]\nstate_dir = /s\n", NAME ":3: [server] plugin_dir: required");
	expect_refused("[limits]\nwall_time = 5\n", NAME ": [server] state_dir: required");
	expect_refused("", NAME ": [server] state_dir: required");
}

Test(config, unknown_section_and_key)
{
	expect_refused(SERVER "[srever]\n", NAME ":4: [srever]: unknown section (expected [server], [limits], "
					    "[sandbox], [dataset.NAME] or [team.NAME])");
	expect_refused(SERVER "[Team.a]\nmembers = 1\n", NAME ":4: [Team.a]: unknown section (expected [server], "
							 "[limits], [sandbox], [dataset.NAME] or [team.NAME])");
	expect_refused(SERVER "sockt = /x\n",
		       NAME ":4: [server] sockt: unknown key (known here: socket, socket_mode, socket_group, state_dir, "
			    "plugin_dir, workers, admin_group, max_message, max_connections_per_uid, "
			    "max_connections, max_output_queue, rescan_interval, shutdown_grace, quarantine_after, "
			    "max_buffered, idle_timeout)");
	expect_refused(SERVER "[limits]\nwall = 5\n",
		       NAME ":5: [limits] wall: unknown key (known here: wall_time, kill_grace, address_space, "
			    "cpu_time, open_files, threads, max_result, max_attempts)");
	expect_refused(SERVER "[team.a]\nmembers = 1\nmax_jobs = 3\n",
		       NAME ":6: [team.a] max_jobs: unknown key (known here: members, groups, max_queued, max_running)");
	expect_refused(SERVER "[dataset.d]\npath = /x\n",
		       NAME ":5: [dataset.d] path: unknown key (known here: file, csv)");
	expect_refused("state_dir = /s\n[server]\n", NAME ":1: state_dir: outside any section (keys go under "
							 "[server], [limits], [sandbox], [dataset.NAME] or [team.NAME])");
	/* Control bytes in a name do not reach a terminal. */
	expect_refused(SERVER "\x1b[31mx = 1\n",
		       NAME ":4: [server] ?[31mx: unknown key (known here: socket, socket_mode, socket_group, "
			    "state_dir, plugin_dir, workers, admin_group, max_message, max_connections_per_uid, "
			    "max_connections, max_output_queue, rescan_interval, shutdown_grace, quarantine_after, "
			    "max_buffered, idle_timeout)");
}

Test(config, bad_section_names)
{
	expect_refused(SERVER "[team.]\n", NAME ":4: [team.]: '' is not a valid team name (letters, digits, '_', '.', '-')");
	expect_refused(SERVER "[team.a b]\n",
		       NAME ":4: [team.a b]: 'a b' is not a valid team name (letters, digits, '_', '.', '-')");
	expect_refused(SERVER "[dataset.d/e]\n",
		       NAME ":4: [dataset.d/e]: 'd/e' is not a valid dataset name (letters, digits, '_', '.', '-')");
	expect_refused(SERVER "[team.abcdefghijabcdefghijabcdefghijabcdefghijabcde]\n",
		       NAME ":4: [team.abcdefghijabcdefghijabcdefghijabcdefghijabcde]: section name longer than "
			    "49 characters");
	/* 49 characters is the longest inih keeps whole. */
	rbd_config *c = parse_ok(SERVER "[team.abcdefghijabcdefghijabcdefghijabcdefghijabcd]\ngroups = 1\n");
	cr_assert_str_eq(c->teams[0].name, "abcdefghijabcdefghijabcdefghijabcdefghijabcd");
	rbd_config_free(c);
}

Test(config, bad_values)
{
	expect_refused(SERVER "[limits]\nwall_time = abc\n",
		       NAME ":5: [limits] wall_time: 'abc' is not a duration (e.g. 90, 30s, 5m)");
	expect_refused(SERVER "[limits]\nkill_grace = 5 s\n",
		       NAME ":5: [limits] kill_grace: '5 s' is not a duration (e.g. 90, 30s, 5m)");
	expect_refused(SERVER "[limits]\naddress_space = 8GB\n",
		       NAME ":5: [limits] address_space: '8GB' is not a size (e.g. 1048576, 512K, 8M, 2G)");
	expect_refused(SERVER "workers = four\n", NAME ":4: [server] workers: 'four' is not a whole number");
	expect_refused(SERVER "workers = -1\n", NAME ":4: [server] workers: '-1' is not a whole number");
	expect_refused(SERVER "socket_mode = 0980\n", NAME ":4: [server] socket_mode: '0980' is not an octal mode (e.g. 0660)");
	expect_refused(SERVER "socket_mode = 07777\n", NAME ":4: [server] socket_mode: '07777' is not an octal mode (e.g. 0660)");
	expect_refused(SERVER "socket_mode = 1777\n", NAME ":4: [server] socket_mode: '1777' is out of range (0000 to 0777)");
	expect_refused(SERVER "[limits]\ncpu_time = 1.5\n",
		       NAME ":5: [limits] cpu_time: '1.5' is not a whole number of seconds");
	expect_refused(SERVER "socket_group = 4294967295\n",
		       NAME ":4: [server] socket_group: '4294967295' is out of range for a group id (at most 4294967294)");
	expect_refused(SERVER "socket = \"/run/rbd.sock\"\n",
		       NAME ":4: [server] socket: \"/run/rbd.sock\": quotes are not needed (values are taken as written)");
	expect_refused(SERVER "socket =\n", NAME ":4: [server] socket: empty value");
	expect_refused(SERVER "socket = ~/rbd.sock\n",
		       NAME ":4: [server] socket: '~/rbd.sock': '~' is not expanded here; write the whole path");
	char text[512], want[512];
	char longp[120];
	long_path(longp, sizeof(longp) - 1, 'x');
	snprintf(text, sizeof(text), SERVER "socket = %s\n", longp);
	snprintf(want, sizeof(want), NAME ":4: [server] socket: '%.80s...' is too long for a unix socket (at most 107 bytes)",
		 longp);
	expect_refused(text, want);
}

Test(config, out_of_range)
{
	expect_refused(SERVER "workers = 0\n", NAME ":4: [server] workers: '0' is out of range (1 to 1024)");
	expect_refused(SERVER "workers = 99999999999999999999999\n",
		       NAME ":4: [server] workers: '99999999999999999999999' is out of range (1 to 1024)");
	expect_refused(SERVER "max_message = 100\n", NAME ":4: [server] max_message: '100' is out of range (1K to 1G)");
	expect_refused(SERVER "max_output_queue = 100000000000000000000\n",
		       NAME ":4: [server] max_output_queue: '100000000000000000000' is out of range (4K to 64G)");
	expect_refused(SERVER "rescan_interval = 0\n",
		       NAME ":4: [server] rescan_interval: '0' is out of range (0.1s to 24h)");
	expect_refused(SERVER "shutdown_grace = 25h\n",
		       NAME ":4: [server] shutdown_grace: '25h' is out of range (0 to 24h)");
	expect_refused(SERVER "[limits]\nwall_time = 0\n",
		       NAME ":5: [limits] wall_time: '0' is out of range (0.1s to 8760h)");
	expect_refused(SERVER "[limits]\naddress_space = 1M\n",
		       NAME ":5: [limits] address_space: '1M' is out of range (0 for no limit, or 64M to 1024T)");
	expect_refused(SERVER "[limits]\nopen_files = 0\n",
		       NAME ":5: [limits] open_files: '0' is out of range (16 to 1048576)");
	expect_refused(SERVER "[team.a]\ngroups = 1\nmax_queued = 1000001\n",
		       NAME ":6: [team.a] max_queued: '1000001' is out of range (0 for no cap, or up to 1000000)");

	/* Zero means "no limit" where the header says so. */
	rbd_config *c = parse_ok(SERVER "[limits]\naddress_space = 0\ncpu_time = 0\nkill_grace = 0\n");
	cr_assert_eq(c->job_address_space, 0);
	cr_assert_eq(c->job_cpu_seconds, 0);
	cr_assert_float_eq(c->kill_grace_seconds, 0, 1e-12);
	rbd_config_free(c);
}

Test(config, duplicates)
{
	expect_refused(SERVER "state_dir = /again\n", NAME ":4: [server] state_dir: duplicate key (first set on line 2)");
	expect_refused(SERVER "[team.a]\ngroups = 1\ngroups = 2\n",
		       NAME ":6: [team.a] groups: duplicate key (first set on line 5)");
	expect_refused(SERVER "[team.a]\ngroups = 1\n[team.b]\ngroups = 2\n[team.a]\ngroups = 3\n",
		       NAME ":8: [team.a]: duplicate team (first at line 4)");
	expect_refused(SERVER "[dataset.d]\nfile = /d\n\n[dataset.d]\nfile = /e\n",
		       NAME ":7: [dataset.d]: duplicate dataset (first at line 4)");
	expect_refused(SERVER "[server]\nworkers = 2\n", NAME ":4: [server]: duplicate section (first at line 1)");
	expect_refused(SERVER "[limits]\n[ limits ]\n", NAME ":5: [limits]: duplicate section (first at line 4)");
	/* A team and a dataset may share a name. */
	rbd_config *c = parse_ok(SERVER "[team.x]\ngroups = 1\n[dataset.x]\nfile = /x\n");
	cr_assert_not_null(rbd_config_team(c, "x"));
	cr_assert_not_null(rbd_config_dataset(c, "x"));
	rbd_config_free(c);
}

Test(config, uid_in_two_teams_is_refused)
{
	expect_refused(SERVER "[team.a]\nmembers = 1000, 1001\n[team.b]\nmembers = 1002,\n  1001\n",
		       NAME ":8: [team.b] members: '1001' (uid 1001) is already in [team.a] (line 5); a user belongs "
			    "to one team only");
	expect_refused(SERVER "[team.a]\nmembers = 1000, 1000\n", NAME ":5: [team.a] members: '1000' (uid 1000) is listed twice");
	expect_refused(SERVER "[team.a]\ngroups = 7, 8, 7\n", NAME ":5: [team.a] groups: '7' (gid 7) is listed twice");
	/* By name and by number: the same uid. */
	struct passwd *pw = getpwuid(0);
	cr_assert_not_null(pw);
	char text[512], want[512];
	snprintf(text, sizeof(text), SERVER "[team.a]\nmembers = 0\n[team.b]\nmembers = %s\n", pw->pw_name);
	snprintf(want, sizeof(want),
		 NAME ":7: [team.b] members: '%s' (uid 0) is already in [team.a] (line 5); a user belongs to one team only",
		 pw->pw_name);
	expect_refused(text, want);
	/* A group in two teams is allowed: the first team listing it takes its members. */
	rbd_config *c = parse_ok(SERVER "[team.a]\ngroups = 7\n[team.b]\ngroups = 7\n");
	rbd_config_free(c);
}

Test(config, unknown_names)
{
	expect_refused(SERVER "[team.a]\nmembers = no-such-user-rbtest\n",
		       NAME ":5: [team.a] members: no user 'no-such-user-rbtest' on this system");
	expect_refused(SERVER "[team.a]\ngroups = 5, no-such-group-rbtest\n",
		       NAME ":5: [team.a] groups: no group 'no-such-group-rbtest' on this system");
	expect_refused(SERVER "socket_group = no-such-group-rbtest\n",
		       NAME ":4: [server] socket_group: no group 'no-such-group-rbtest' on this system");
	expect_refused(SERVER "admin_group = no-such-group-rbtest\n",
		       NAME ":4: [server] admin_group: no group 'no-such-group-rbtest' on this system");
	expect_refused(SERVER "[team.a]\nmembers = alice bob\n",
		       NAME ":5: [team.a] members: 'alice bob' is not a user name (separate names with commas)");
}

Test(config, teams_and_datasets_need_their_keys)
{
	expect_refused(SERVER "[team.a]\n[team.b]\ngroups = 1\n",
		       NAME ":4: [team.a]: no members: set members = users and/or groups = groups");
	expect_refused(SERVER "[team.a]\nmax_queued = 3\n",
		       NAME ":4: [team.a]: no members: set members = users and/or groups = groups");
	expect_refused(SERVER "[team.a]\ngroups = 1\nmembers = ,\n",
		       NAME ":6: [team.a] members: empty list (name users, or leave the key out)");
	expect_refused(SERVER "[team.a]\ngroups = 1\nmax_queued = 2\nmax_running = 3\n",
		       NAME ":7: [team.a] max_running: 3 is more than max_queued (2), which counts running jobs too");
	expect_refused(SERVER "[dataset.d]\nfile = /d.rbds\ncsv = /a.csv\n",
		       NAME ":6: [dataset.d] csv: both file (line 5) and csv (line 6) are set; a dataset has one source");
	expect_refused(SERVER "[dataset.d]\ncsv = /a.csv\nfile = /d.rbds\n[limits]\n",
		       NAME ":6: [dataset.d] file: both file (line 6) and csv (line 5) are set; a dataset has one source");
	expect_refused(SERVER "[dataset.d]\n\n[team.a]\ngroups = 1\n",
		       NAME ":4: [dataset.d]: no source: set file = (a .rbds file) or csv = (CSV/JSONL files)");
	expect_refused(SERVER "[dataset.d]\ncsv =\n", NAME ":5: [dataset.d] csv: empty list (name CSV or JSONL files)");
	/* max_running without max_queued is fine: no cap on the queue. */
	rbd_config *c = parse_ok(SERVER "[team.a]\ngroups = 1\nmax_running = 3\n");
	cr_assert_eq(c->teams[0].max_running, 3);
	rbd_config_free(c);
}

Test(config, syntax_errors_name_their_line)
{
	expect_refused(SERVER "workers 4\n", NAME ":4: [server]: 'workers 4': expected key = value, a [section] or a comment");
	expect_refused("[server\nstate_dir = /s\n", NAME ":1: '[server': a section header needs a closing ']'");
	expect_refused(SERVER "[team.a ; comment]\n", NAME ":4: '[team.a ; comment]': a section header needs a closing ']'");
	expect_refused(SERVER "[team.a] members = 1\n",
		       NAME ":4: '[team.a] members = 1': text after a section header (keys go on lines of their own)");
	expect_refused(SERVER "= 4\n", NAME ":4: [server]: a line starts with '=' or ':' (no key name)");
	/* An indented line continues the key before it: fine for lists, a mistake otherwise. */
	expect_refused(SERVER "workers = 4\n  max_connections = 9\n",
		       NAME ":5: [server] workers: an indented line continues the value of workers, which takes one "
			    "line (unindent the line if it is a key of its own)");
}

/* Line numbers come from counting the lines handed to inih: comments, blank lines, CRLF and
 * continuation lines all count, and so does the line inih itself cannot parse. */
Test(config, line_numbers_count_every_line)
{
	expect_refused("; rbd\n\n# comment\n[server]\n\n   ; indented comment\nworkers = x\n",
		       NAME ":7: [server] workers: 'x' is not a whole number");
	expect_refused("[server]\r\n\r\n; c\r\nworkers = 0\r\n", NAME ":4: [server] workers: '0' is out of range (1 to 1024)");
	/* Continuation lines, with blank and comment lines between them, then a mistake in the list. */
	expect_refused(SERVER "[team.a]\nmembers = 1001,\n\n  ; not an item\n  1002,\n  1001\n",
		       NAME ":9: [team.a] members: '1001' (uid 1001) is listed twice");
	/* After a list's last continuation line, the next key has its own line. */
	expect_refused(SERVER "[team.a]\nmembers = 1001,\n  1002\n# c\nmax_queued = many\n",
		       NAME ":8: [team.a] max_queued: 'many' is not a whole number");
	/* A too-long line after continuation lines. */
	char text[600], val[250], want[256];
	memset(val, 'x', 230);
	val[230] = '\0';
	snprintf(text, sizeof(text), SERVER "[team.a]\nmembers = 1001,\n  1002,\n\n  %s\n", val);
	snprintf(want, sizeof(want), NAME ":8: line longer than 198 characters (inih's limit); split a long list over indented lines");
	expect_refused(text, want);
}

/* inih reports the first line it cannot parse and reads on; that line still comes first when a
 * later line is wrong too, and its message names the section it is in. */
Test(config, inih_syntax_errors_keep_their_place)
{
	expect_refused(SERVER "workers 4\n[bogus]\n", NAME ":4: [server]: 'workers 4': expected key = value, a [section] or a comment");
	expect_refused(SERVER "oops\nworkers = x\n", NAME ":4: [server]: 'oops': expected key = value, a [section] or a comment");
	expect_refused(SERVER "[team.a]\nmembers = 1,\n  2\n\nnot a key\nmax_queued = x\n",
		       NAME ":8: [team.a]: 'not a key': expected key = value, a [section] or a comment");
	expect_refused("\xEF\xBB\xBF  just words  \n" SERVER, NAME ":1: 'just words': expected key = value, a [section] or a comment");
	/* Our own error on an earlier line wins over inih's on a later one. */
	expect_refused(SERVER "workers = x\noops\n", NAME ":4: [server] workers: 'x' is not a whole number");
	/* A section closed by a header after the bad line: the bad line still comes first. */
	expect_refused(SERVER "[team.a]\noops\n[team.b]\nmembers = 1\n",
		       NAME ":5: [team.a]: 'oops': expected key = value, a [section] or a comment");
}

Test(config, long_lines_and_nul_bytes)
{
	char text[512], want[256];
	char val[250];
	long_path(val, sizeof(val) - 1, 'a');
	snprintf(text, sizeof(text), SERVER "[dataset.d]\nfile = %s\n", val);
	snprintf(want, sizeof(want), NAME ":5: line longer than 198 characters (inih's limit); split a long list over indented lines");
	expect_refused(text, want);
	/* The longest line that fits: 198 characters ("file = " and the path) and the newline. */
	long_path(val, 198 - 7, 'a');
	snprintf(text, sizeof(text), SERVER "[dataset.d]\nfile = %s\n", val);
	cr_assert_eq(strlen(strchr(text, 'f')), 199);
	rbd_config *c = parse_ok(text);
	cr_assert_str_eq(c->datasets[0].file, val);
	rbd_config_free(c);

	/* A NUL byte can only come from a file. */
	char *dir = temp_dir();
	char path[128];
	snprintf(path, sizeof(path), "%s/rbd.ini", dir);
	static const char nul[] = "[server]\nstate_dir = /s\0x\nplugin_dir = /p\n";
	write_file(path, nul, sizeof(nul) - 1);
	c = (rbd_config *)0x1;
	rbe_error e = {0};
	cr_assert_eq(rbd_config_load(path, &c, &e), -EINVAL);
	cr_assert_eq(c, (rbd_config *)0x1);
	snprintf(want, sizeof(want), "%s:2: a NUL byte in the line (not a text file?)", path);
	cr_assert_str_eq(e.msg, want);
	remove_tree(dir);
}

Test(config, load_errors)
{
	rbd_config *c = (rbd_config *)0x1;
	rbe_error e = {0};
	cr_assert_eq(rbd_config_load("/nonexistent-rbtest/rbd.ini", &c, &e), -ENOENT);
	cr_assert_eq(c, (rbd_config *)0x1);
	cr_assert_not_null(strstr(e.msg, "/nonexistent-rbtest/rbd.ini"), "%s", e.msg);

	/* Errors in a loaded file name the absolute path. */
	char *dir = temp_dir();
	char path[128], want[256];
	snprintf(path, sizeof(path), "%s/rbd.ini", dir);
	const char *text = "[server]\nstate_dir = /s\nplugin_dir = /p\n[limits]\nwall_time = abc\n";
	write_file(path, text, strlen(text));
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(rbd_config_load("rbd.ini", &c, &e), -EINVAL);
	snprintf(want, sizeof(want), "%s:5: [limits] wall_time: 'abc' is not a duration (e.g. 90, 30s, 5m)", path);
	cr_assert_str_eq(e.msg, want);
	cr_assert_eq(chdir("/"), 0);
	remove_tree(dir);
	rbd_config_free(NULL);
}

Test(config, first_error_wins)
{
	/* Line 4 is wrong and so is line 6: the message is about line 4. */
	expect_refused(SERVER "workers = x\n[bogus]\nthreads = y\n",
		       NAME ":4: [server] workers: 'x' is not a whole number");
}

/* ---- lookups ---- */

static rbd_config *teams_config(void)
{
	return parse_ok(SERVER "admin_group = 50\n"
			       "[team.a]\n"
			       "members = 1001, 1002\n"
			       "groups = 2001\n"
			       "[team.b]\n"
			       "members = 1003\n"
			       "groups = 2002, 2001\n"
			       "[team.c]\n"
			       "groups = 2003\n");
}

Test(config, team_of_uid_gid_and_supplementary_groups)
{
	rbd_config *c = teams_config();
	const gid_t none[] = {0};
	/* Named as a user: that team, whatever the groups say. */
	const gid_t g3[] = {2003};
	cr_assert_str_eq(rbd_config_team_of(c, 1001, 100, NULL, 0)->name, "a");
	cr_assert_str_eq(rbd_config_team_of(c, 1003, 2001, g3, 1)->name, "b");
	/* By primary group; the first team listing it wins (2001 is in a and b). */
	cr_assert_str_eq(rbd_config_team_of(c, 5000, 2001, none, 0)->name, "a");
	cr_assert_str_eq(rbd_config_team_of(c, 5000, 2002, NULL, 0)->name, "b");
	/* By a supplementary group. */
	const gid_t sup[] = {10, 11, 2003};
	cr_assert_str_eq(rbd_config_team_of(c, 5000, 100, sup, 3)->name, "c");
	/* Teams in file order: a supplementary group of an earlier team beats the primary group of a
	 * later one. */
	const gid_t sup_a[] = {2001};
	cr_assert_str_eq(rbd_config_team_of(c, 5000, 2003, sup_a, 1)->name, "a");
	/* Nobody's. */
	const gid_t other[] = {7, 8};
	cr_assert_null(rbd_config_team_of(c, 5000, 100, other, 2));
	cr_assert_null(rbd_config_team_of(c, 5000, 100, NULL, 0));
	cr_assert_null(rbd_config_team_of(NULL, 1001, 100, NULL, 0));

	cr_assert_str_eq(rbd_config_team(c, "b")->name, "b");
	cr_assert_null(rbd_config_team(c, "z"));
	rbd_config_free(c);
}

Test(config, admin_detection)
{
	rbd_config *c = teams_config();
	cr_assert_eq(rbd_config_is_admin(c, 0, 0, NULL, 0), 1, "root is always an administrator");
	cr_assert_eq(rbd_config_is_admin(c, 1001, 50, NULL, 0), 1, "primary group");
	const gid_t sup[] = {3, 50};
	cr_assert_eq(rbd_config_is_admin(c, 1001, 100, sup, 2), 1, "supplementary group");
	const gid_t other[] = {3, 51};
	cr_assert_eq(rbd_config_is_admin(c, 1001, 100, other, 2), 0);
	cr_assert_eq(rbd_config_is_admin(c, 1001, 100, NULL, 0), 0);
	rbd_config_free(c);

	/* Without admin_group only root; (gid_t)-1 is no wildcard. */
	c = parse_ok(SERVER);
	const gid_t minus[] = {(gid_t)-1};
	cr_assert_eq(rbd_config_is_admin(c, 1001, (gid_t)-1, minus, 1), 0);
	cr_assert_eq(rbd_config_is_admin(c, 0, 5, NULL, 0), 1);
	rbd_config_free(c);
	/* admin_group = 0 (the root group) is a real group. */
	c = parse_ok(SERVER "admin_group = 0\n");
	cr_assert_eq(rbd_config_is_admin(c, 1001, 0, NULL, 0), 1);
	rbd_config_free(c);
}

Test(config, dataset_lookup)
{
	rbd_config *c = parse_ok(SERVER "[dataset.demo]\nfile = d.rbds\n[dataset.raw]\ncsv = r.csv\n");
	const rbd_dataset_conf *d = rbd_config_dataset(c, "demo");
	cr_assert_not_null(d);
	cr_assert_str_eq(d->file, "/etc/rbd/d.rbds");
	cr_assert_str_eq(rbd_config_dataset(c, "raw")->csv[0], "/etc/rbd/r.csv");
	cr_assert_null(rbd_config_dataset(c, "Demo"));
	cr_assert_null(rbd_config_dataset(c, NULL));
	cr_assert_null(rbd_config_dataset(NULL, "demo"));
	rbd_config_free(c);
}

/* ---- sizes and durations ---- */

Test(config, size_parsing)
{
	struct {
		const char *text;
		uint64_t want;
	} ok[] = {
		{"0", 0}, {"1048576", 1048576}, {"512K", 512 * 1024}, {"512k", 512 * 1024}, {"8M", 8u << 20},
		{"2G", 2ull << 30}, {"3t", 3ull << 40}, {"18446744073709551615", UINT64_MAX}, {"16777215T", 16777215ull << 40},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		uint64_t v = 7;
		cr_assert_eq(rbd_config_parse_size(ok[i].text, &v), 0, "%s", ok[i].text);
		cr_assert_eq(v, ok[i].want, "%s", ok[i].text);
	}
	const char *bad[] = {"", "K", "-1", "+1", " 1", "1 ", "1.5G", "1KB", "1KiB", "1P", "0x10", "1e3", "1,000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		uint64_t v = 7;
		cr_assert_eq(rbd_config_parse_size(bad[i], &v), -EINVAL, "'%s'", bad[i]);
		cr_assert_eq(v, 7, "untouched");
	}
	const char *big[] = {"18446744073709551616", "16777216T", "99999999999999999999999G"};
	for (size_t i = 0; i < sizeof(big) / sizeof(*big); i++) {
		uint64_t v = 7;
		cr_assert_eq(rbd_config_parse_size(big[i], &v), -ERANGE, "'%s'", big[i]);
		cr_assert_eq(v, 7);
	}
	cr_assert_eq(rbd_config_parse_size(NULL, NULL), -EINVAL);
}

Test(config, duration_parsing)
{
	struct {
		const char *text;
		double want;
	} ok[] = {
		{"0", 0},     {"90", 90},      {"30s", 30},       {"5m", 300},         {"2h", 7200},
		{"0.5", 0.5}, {"1.5h", 5400},  {"0.1s", 0.1},     {"007", 7},          {"999999999999", 999999999999.0},
		{"1.25m", 75}, {"0.1234567891234", 0.123456789},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		double v = -1;
		cr_assert_eq(rbd_config_parse_duration(ok[i].text, &v), 0, "%s", ok[i].text);
		cr_assert_float_eq(v, ok[i].want, 1e-9, "%s: %g", ok[i].text, v);
	}
	const char *bad[] = {"", "s", "abc", "-1", "+1", " 5", "5 ", ".5", "5.", "1e3", "inf", "nan", "0x10",
			     "5ms", "5d", "1,5", "1:30", "5S"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		double v = -1;
		cr_assert_eq(rbd_config_parse_duration(bad[i], &v), -EINVAL, "'%s'", bad[i]);
		cr_assert_eq(v, -1, "untouched");
	}
	double v = -1;
	cr_assert_eq(rbd_config_parse_duration("1000000000000", &v), -ERANGE);
	cr_assert_eq(v, -1);
}

/* ---- the example ---- */

/* conf/rbd.ini with the user and group names (which may not exist here) replaced by numbers. */
static char *example_with_numbers(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/conf/rbd.ini", getenv("RB_SOURCE_ROOT") ? getenv("RB_SOURCE_ROOT") : ".");
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	size_t cap = 1 << 16, n = 0;
	char *out = calloc(1, cap);
	char line[512];
	int uid = 20001, gid = 30001;
	while (fgets(line, sizeof(line), f)) {
		char key[64] = "";
		char buf[512];
		if (sscanf(line, " %63[a-z_] =", key) == 1 &&
		    (!strcmp(key, "members") || !strcmp(key, "groups") || !strcmp(key, "socket_group") ||
		     !strcmp(key, "admin_group"))) {
			snprintf(buf, sizeof(buf), "%s = %d\n", key, !strcmp(key, "members") ? uid++ : gid++);
		} else {
			snprintf(buf, sizeof(buf), "%s", line);
		}
		cr_assert_lt(n + strlen(buf) + 1, cap);
		memcpy(out + n, buf, strlen(buf) + 1);
		n += strlen(buf);
	}
	fclose(f);
	return out;
}

Test(config, example_conf_parses)
{
	char *text = example_with_numbers();
	rbd_config *c = parse_ok(text);
	cr_assert_str_eq(c->socket_path, "/run/rbd/rbd.sock");
	cr_assert_eq(c->socket_mode, 0660);
	cr_assert_eq(c->socket_gid, 30001);
	cr_assert_str_eq(c->state_dir, "/var/lib/rbd");
	cr_assert_str_eq(c->plugin_dir, "/var/lib/rbd/routers");
	cr_assert_eq(c->has_admin_group, 1);
	cr_assert_eq(c->admin_gid, 30002);
	cr_assert_str_eq(rbd_config_dataset(c, "demo")->file, "/var/lib/rbd/demo.rbds");
	cr_assert_eq(c->n_teams, 2);
	cr_assert_str_eq(c->teams[0].name, "nlp");
	cr_assert_eq(c->teams[0].n_uids, 1);
	cr_assert_eq(c->teams[0].uids[0], 20001);
	cr_assert_str_eq(c->teams[1].name, "vision");
	cr_assert_gt(c->teams[0].max_queued, 0);
	cr_assert_float_eq(c->shutdown_grace_seconds, 30, 1e-12);
	cr_assert_eq(c->max_message, 1048576);
	cr_assert_eq(c->max_buffered, 64u << 20);
	cr_assert_float_eq(c->idle_timeout_seconds, 300, 1e-12);
	cr_assert_eq(c->sandbox_enabled, 1);
	cr_assert_eq(c->sandbox_require_landlock, 1);
	rbd_config_free(c);
	free(text);
}

Test(config, example_conf_loads_but_for_missing_names)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/conf/rbd.ini", getenv("RB_SOURCE_ROOT") ? getenv("RB_SOURCE_ROOT") : ".");
	rbd_config *c = NULL;
	rbe_error e = {0};
	int r = rbd_config_load(path, &c, &e);
	if (r == 0) {
		cr_assert_str_eq(c->state_dir, "/var/lib/rbd");
		rbd_config_free(c);
	} else {
		/* Only a name this machine lacks may stop it. */
		cr_assert_eq(r, -EINVAL, "%s", e.msg);
		cr_assert(strstr(e.msg, ": no group '") || strstr(e.msg, ": no user '"), "%s", e.msg);
	}
}

/* ---- connection bounds and [sandbox] ---- */

Test(config, buffered_and_idle_defaults_and_values)
{
	rbd_config *c = parse_ok(SERVER);
	cr_assert_eq(c->max_buffered, 64u << 20);
	cr_assert_float_eq(c->idle_timeout_seconds, 300, 1e-9);
	cr_assert_eq(c->sandbox_enabled, 1);
	cr_assert_eq(c->sandbox_require_landlock, 1);
	cr_assert_eq(c->sandbox_uid_count, 0);
	rbd_config_free(c);
	c = parse_ok(SERVER "max_buffered = 16M\nidle_timeout = 0\n");
	cr_assert_eq(c->max_buffered, 16u << 20);
	cr_assert_float_eq(c->idle_timeout_seconds, 0, 1e-9);
	rbd_config_free(c);
	c = parse_ok(SERVER "idle_timeout = 2m\n");
	cr_assert_float_eq(c->idle_timeout_seconds, 120, 1e-9);
	rbd_config_free(c);
	expect_refused(SERVER "max_buffered = 512K\n", NAME ":4: [server] max_buffered: '512K' is out of range (1M to 64G)");
	expect_refused(SERVER "idle_timeout = 0.5\n",
		       NAME ":4: [server] idle_timeout: '0.5' is out of range (0 for never, or 1s to 24h)");
	expect_refused(SERVER "idle_timeout = soon\n",
		       NAME ":4: [server] idle_timeout: 'soon' is not a duration (e.g. 90, 30s, 5m)");
}

Test(config, sandbox_section)
{
	rbd_config *c = parse_ok(SERVER "[sandbox]\nenabled = false\njob_users = 61000-61999\nrequire_landlock = false\n");
	cr_assert_eq(c->sandbox_enabled, 0);
	cr_assert_eq(c->sandbox_require_landlock, 0);
	cr_assert_eq(c->sandbox_uid_first, 61000);
	cr_assert_eq(c->sandbox_uid_count, 1000);
	rbd_config_free(c);
	c = parse_ok(SERVER "[sandbox]\njob_users = 70000-70000\n[team.a]\nmembers = 69999, 70001\n");
	cr_assert_eq(c->sandbox_enabled, 1);
	cr_assert_eq(c->sandbox_uid_first, 70000);
	cr_assert_eq(c->sandbox_uid_count, 1);
	rbd_config_free(c);
}

Test(config, sandbox_refusals_name_their_line)
{
	expect_refused(SERVER "[sandbox]\nenabled = yes please\n",
		       NAME ":5: [sandbox] enabled: 'yes please' is not true or false");
	expect_refused(SERVER "[sandbox]\n\nrequire_landlock = 1\n",
		       NAME ":6: [sandbox] require_landlock: '1' is not true or false");
	expect_refused(SERVER "[sandbox]\njob_users = 61000\n",
		       NAME ":5: [sandbox] job_users: '61000' is not a range of uids FIRST-LAST (e.g. 61000-61999)");
	expect_refused(SERVER "[sandbox]\njob_users = a-b\n",
		       NAME ":5: [sandbox] job_users: 'a-b' is not a range of uids FIRST-LAST (e.g. 61000-61999)");
	expect_refused(SERVER "[sandbox]\njob_users = 0-100\n",
		       NAME ":5: [sandbox] job_users: '0-100' includes uid 0 (root); jobs never run as root");
	expect_refused(SERVER "[sandbox]\njob_users = 200-100\n",
		       NAME ":5: [sandbox] job_users: '200-100': the first uid is above the last");
	expect_refused(SERVER "[sandbox]\njob_users = 1-4294967295\n",
		       NAME ":5: [sandbox] job_users: '1-4294967295' is out of range for user ids (at most 4294967294)");
	expect_refused(SERVER "[sandbox]\nlandlock = true\n",
		       NAME ":5: [sandbox] landlock: unknown key (known here: enabled, job_users, require_landlock)");
	expect_refused(SERVER "[sandbox]\nenabled = true\n[sandbox]\n", NAME ":6: [sandbox]: duplicate section (first at line 4)");
	/* A team member's uid inside the range: the line of job_users, and where the member is. */
	expect_refused(SERVER "[sandbox]\njob_users = 61000-61999\n[team.a]\nmembers = 1000,\n  61500\n",
		       NAME ":5: [sandbox] job_users: uid 61500 is a member of [team.a] (line 8); job users must be "
			    "uids no one logs in as");
}
