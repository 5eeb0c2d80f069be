/* fuzz-config.c — fuzz target: rbd's configuration file (rbd_config_parse) from arbitrary bytes. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "fuzz.h"

#define NAME "/fuzz/rbd.ini"

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static void check_path(const char *p)
{
	rbe_require(p && p[0] == '/');
}

/* Everything an accepted file promises (daemon/config.h). */
static void check_config(const rbd_config *c)
{
	rbe_require(strcmp(c->path, NAME) == 0);
	check_path(c->socket_path);
	check_path(c->state_dir);
	check_path(c->plugin_dir);
	rbe_require(strlen(c->socket_path) < 108);
	rbe_require(c->socket_mode <= 0777);
	rbe_require(c->workers >= 1 && c->workers <= 1024);
	rbe_require(c->max_message >= 1024 && c->max_connections >= 1 && c->max_connections_per_uid >= 1);
	rbe_require(c->rescan_seconds >= 0.1 && c->job_wall_seconds >= 0.1);
	rbe_require(c->shutdown_grace_seconds >= 0 && c->kill_grace_seconds >= 0);
	rbe_require(c->job_open_files >= 16 && c->job_threads >= 1 && c->quarantine_after >= 1);
	rbe_require(c->has_admin_group == 0 || c->has_admin_group == 1);
	for (size_t i = 0; i < c->n_datasets; i++) {
		const rbd_dataset_conf *d = &c->datasets[i];
		rbe_require(valid_name(d->name));
		rbe_require(rbd_config_dataset(c, d->name) == d); /* no duplicates */
		rbe_require(!d->file != !d->csv);
		if (d->file)
			check_path(d->file);
		else
			rbe_require(d->n_csv >= 1 && d->csv[d->n_csv] == NULL);
		for (size_t j = 0; j < d->n_csv; j++)
			check_path(d->csv[j]);
	}
	for (size_t i = 0; i < c->n_teams; i++) {
		const rbd_team_conf *t = &c->teams[i];
		rbe_require(valid_name(t->name));
		rbe_require(rbd_config_team(c, t->name) == t);
		rbe_require(t->n_uids + t->n_gids >= 1);
		rbe_require(!t->max_queued || t->max_running <= t->max_queued);
		/* A uid is in one team only, and team_of finds it there. */
		for (size_t j = 0; j < t->n_uids; j++)
			rbe_require(rbd_config_team_of(c, t->uids[j], (gid_t)-1, NULL, 0) == t);
		for (size_t j = 0; j < t->n_gids; j++)
			rbe_require(rbd_config_team_of(c, (uid_t)-1, t->gids[j], NULL, 0) != NULL);
	}
	rbe_require(rbd_config_is_admin(c, 0, 1, NULL, 0) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The text ends at the first NUL, as a C string does; rbd_config_load refuses NUL bytes. */
	char *text = rbe_xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	rbd_config *c = (rbd_config *)0x1;
	rbe_error e = {0};
	int r = rbd_config_parse(text, NAME, "/fuzz", &c, &e);
	if (r == 0) {
		check_config(c);
		rbd_config_free(c);
	} else {
		/* Refused: untouched output, and a message that names the file. */
		rbe_require(r < 0 && e.code == r);
		rbe_require(c == (rbd_config *)0x1);
		rbe_require(strncmp(e.msg, NAME, strlen(NAME)) == 0);
		rbe_require(e.msg[strlen(NAME)] == ':');
		/* The same input gives the same message. */
		rbe_error e2 = {0};
		rbd_config *c2 = NULL;
		rbe_require(rbd_config_parse(text, NAME, "/fuzz", &c2, &e2) == r);
		rbe_require(c2 == NULL && strcmp(e.msg, e2.msg) == 0);
	}
	free(text);
	return 0;
}
