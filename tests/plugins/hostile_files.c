/* hostile_files.c — test fixture: a router that tries rbd's files: appends to the file named by
 * its "path" parameter (a jobs.db, say), lists its folder, reads /etc/passwd. It logs what
 * happened and the uid it runs as; then it routes honestly. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "path", .type = RB_PARAM_STRING, .default_value = "", .help = "a file of rbd's to spoil"},
};

static const char *outcome(int ok, int err)
{
	return ok ? "allowed" : err == EACCES || err == EPERM ? "denied" : strerror(err);
}

static int create(const rb_create_args *a, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	*out = NULL;
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", a->params[0].s);
	int fd = open(a->params[0].s, O_WRONLY | O_APPEND);
	int write_err = errno;
	if (fd >= 0) {
		write_err = write(fd, "spoiled", 7) == 7 ? 0 : errno;
		close(fd);
	}
	DIR *d = opendir(dirname(dir));
	int list_err = errno;
	if (d)
		closedir(d);
	int passwd = open("/etc/passwd", O_RDONLY);
	int passwd_err = errno;
	if (passwd >= 0)
		close(passwd);
	a->host->log(RB_LOG_INFO, "hostile_files: write %s; list folder %s; read /etc/passwd %s; uid %u",
		     outcome(fd >= 0 && !write_err, write_err), outcome(d != NULL, list_err),
		     outcome(passwd >= 0, passwd_err), (unsigned)getuid());
	return 0;
}

PREDICTIVE_FIXTURE("hostile_files", .summary = "fixture: tries to read and write rbd's files",
		   RB_ROUTER_PARAMS(params), .create = create, .destroy = stateless_destroy, .predict = half_predict)
