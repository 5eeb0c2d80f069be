/* cmd_routers.c — `rbctl routers`: the routers rbd serves, or (--local) the plugins rbctl can load, with their parameters. */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "eval/plugin.h"

static const char *param_type_name(rb_param_type t)
{
	static const char *names[] = {"?", "int", "real", "bool", "string", "model", "real-list"};
	return t >= RB_PARAM_INT && t <= RB_PARAM_REAL_LIST ? names[t] : "?";
}

static void describe(const rbe_plugin *p)
{
	const rb_router *r = p->router;
	char hex[65];
	rbe_hex(p->sha256, 32, hex);
	printf("%-12s %-10s %-8s %s\n", r->name, rbe_router_kind_name(r->kind), r->version, r->summary ? r->summary : "");
	printf("%12s file %s (sha256 %.16s)\n", "", p->path, hex);
	for (uint32_t i = 0; i < r->n_params; i++) {
		const rb_param_spec *s = rbe_plugin_param(p, i);
		printf("%12s --set %s=<%s>  default %s%s%s\n", "", s->name, param_type_name(s->type),
		       s->default_value ? s->default_value : "(required)", s->help ? "  — " : "", s->help ? s->help : "");
	}
}

static void routers_usage(FILE *out)
{
	fprintf(out, "usage: rbctl routers [--json] [--socket PATH]\n"
		     "       rbctl routers --local [--plugin-dir DIR]...\n"
		     "\n"
		     "List the routers rbd serves (the names rbctl submit --router takes): kind, version,\n"
		     "state, sha256, parameters, and the reason for any file it rejected or quarantined.\n"
		     "With --local, list the router plugins this machine's rbctl run can load instead,\n"
		     "found in the plugin directories ($RB_PLUGIN_DIR, the plugins folder beside rbctl,\n"
		     "the installed directory), with the loader's reason for a file that fails to load.\n"
		     "\n"
		     "  --local               list the local plugins, not rbd's\n"
		     "  --plugin-dir DIR      with --local: search DIR first (repeatable; implies --local)\n"
		     "  --json                print rbd's reply ({\"routers\": [...]}) as JSON\n"
		     "  --socket PATH         rbd's socket (default: $RBD_SOCKET, else /run/rbd/rbd.sock)\n"
		     "  -h, --help            this text\n"
		     "\n"
		     "exit status: 0 success, 1 no routers found locally or rbd refused, 2 usage error,\n"
		     "3 cannot reach rbd\n");
}

int rbctl_routers_main(int argc, char **argv)
{
	enum { OPT_PLUGIN_DIR = 256, OPT_LOCAL, OPT_SOCKET, OPT_JSON };
	static const struct option longopts[] = {
		{"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
		{"local", no_argument, NULL, OPT_LOCAL},
		{"socket", required_argument, NULL, OPT_SOCKET},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char **extra = rbe_xcalloc((size_t)argc + 1, sizeof(char *));
	const char *socket = NULL;
	size_t n_extra = 0;
	int c, status = RBCTL_EXIT_OK, local = 0, as_json = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == OPT_PLUGIN_DIR) {
			extra[n_extra++] = optarg;
			local = 1;
		} else if (c == OPT_LOCAL) {
			local = 1;
		} else if (c == OPT_SOCKET) {
			socket = optarg;
		} else if (c == OPT_JSON) {
			as_json = 1;
		} else {
			routers_usage(c == 'h' ? stdout : stderr);
			free(extra);
			return c == 'h' ? RBCTL_EXIT_OK : RBCTL_EXIT_USAGE;
		}
	}
	if (optind < argc || (local && (socket || as_json))) {
		if (optind < argc)
			fprintf(stderr, "rbctl routers: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "rbctl routers: %s is for rbd's listing, not --local\n", socket ? "--socket" : "--json");
		free(extra);
		return RBCTL_EXIT_USAGE;
	}
	if (!local) {
		free(extra);
		return rbctl_server_routers(socket, as_json);
	}
	char **dirs = rbe_plugin_default_dirs(extra);
	rbe_strmap *seen = rbe_strmap_new();
	for (size_t d = 0; dirs[d]; d++) {
		struct dirent **entries;
		int n = scandir(dirs[d], &entries, NULL, alphasort);
		for (int k = 0; k < n; k++) {
			const char *name = entries[k]->d_name;
			size_t len = strlen(name);
			if (len > 3 && !strcmp(name + len - 3, ".so")) {
				char path[4096];
				snprintf(path, sizeof(path), "%s/%s", dirs[d], name);
				rbe_plugin *p;
				rbe_error e;
				if (rbe_plugin_load(path, &p, &e) < 0) {
					printf("%-12.*s rejected: %s\n", (int)(len - 3), name, e.msg);
				} else {
					/* Earlier directories shadow later ones, as in resolution. */
					if (rbe_strmap_put(seen, p->router->name, 1) < 0)
						describe(p);
					rbe_plugin_free(p);
				}
			}
			free(entries[k]);
		}
		if (n >= 0)
			free(entries);
	}
	if (rbe_strmap_size(seen) == 0) {
		fprintf(stderr, "rbctl routers: no router plugins found\n");
		status = RBCTL_EXIT_FAIL;
	}
	rbe_strmap_free(seen);
	rbe_strv_free(dirs);
	free(extra);
	return status;
}
