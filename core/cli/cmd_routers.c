/* cmd_routers.c — `rbctl routers`: the routers rbd serves, or (--local) the plugins rbctl can load, with their parameters. */
#include <dirent.h>
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

static const rbctl_usage routers_usage = {
	"routers",
	"usage: rbctl routers [--json] [--socket PATH]\n"
	"       rbctl routers --local [--plugin-dir DIR]...\n"
	"\n"
	"List the routers rbd serves (the names rbctl submit --router takes): kind, version,\n"
	"state, sha256, parameters, and the reason for any file it rejected or quarantined.\n"
	"With --local, list the router plugins this machine's rbctl run can load instead,\n"
	"found in the plugin directories ($RB_PLUGIN_DIR, the plugins folder beside rbctl,\n"
	"the installed directory), with the loader's reason for a file that fails to load.\n",
	"exit status: 0 success, 1 no routers found locally or rbd refused, 2 usage error,\n"
	"3 cannot reach rbd\n",
};

/* The plugins of the plugin directories (extra ones first), as rbctl run resolves them. An exit
 * status. */
static int list_local(const rbe_opt_list *extra)
{
	int status = RBCTL_EXIT_OK;
	char **dirs = rbe_plugin_default_dirs(extra->items);
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
	return status;
}

int rbctl_routers_main(int argc, char **argv)
{
	rbe_opt_list extra = {0};
	const char *socket = NULL;
	int local = 0, as_json = 0, first;
	rbe_opt opts[] = {
		RBE_OPT_FLAG("local", 0, &local, "list the local plugins, not rbd's"),
		RBE_OPT_LIST("plugin-dir", 0, &extra, "DIR", "with --local: search DIR first (repeatable; implies --local)"),
		RBE_OPT_FLAG("json", 0, &as_json, "print rbd's reply ({\"routers\": [...]}) as JSON"),
		RBCTL_SOCKET_OPT(&socket),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int status = rbctl_parse(&routers_usage, opts, argc, argv, &first);
	if (status < 0 && first < argc)
		status = rbctl_usage_error("routers", "unexpected argument '%s'", argv[first]);
	local |= extra.n > 0;
	if (status < 0 && local && (socket || as_json))
		status = rbctl_usage_error("routers", "%s is for rbd's listing, not --local", socket ? "--socket" : "--json");
	if (status < 0)
		status = local ? list_local(&extra) : rbctl_server_routers(socket, as_json);
	rbe_opt_list_clear(&extra);
	return status;
}
