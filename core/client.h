/* client.h — a blocking rbd client (rbctl, tests, benchmarks): connect, call, read replies. */
#ifndef RBD_CLIENT_H
#define RBD_CLIENT_H

#include <jansson.h>

#include "proto.h"

#define RBD_DEFAULT_SOCKET "/run/rbd/rbd.sock"
#define RBD_SOCKET_ENV "RBD_SOCKET"

/* The socket to use: explicit (when not NULL), else $RBD_SOCKET, else RBD_DEFAULT_SOCKET. */
const char *rbd_client_socket_path(const char *explicit_path);

/* Replies can carry whole result documents. */
#define RBD_CLIENT_MAX_REPLY (64u << 20)

typedef struct rbd_client {
	int fd;
	rbd_msgbuf in;  /* received bytes: replies that came in the same read wait here for the next recv */
	char *chunk;    /* read buffer (owned) */
	size_t chunk_size;
	char *path;     /* the socket, for messages (owned; NULL for an adopted fd) */
} rbd_client;

/* Connect to the Unix socket at path. Errors name the path and say whether rbd is running
 * ("cannot connect to rbd at PATH: No such file or directory (is rbd running? set --socket or
 * RBD_SOCKET)"). Owned result:
 * rbd_client_close. */
int rbd_client_open(const char *path, rbd_client **out, rbd_error *e);
void rbd_client_close(rbd_client *c); /* accepts NULL */

/* Send one call (parameters borrowed; NULL: {}). */
int rbd_client_send(rbd_client *c, const char *method, const json_t *parameters, int more, rbd_error *e);
/* Read the next reply (blocking). -EPIPE with a message when rbd closed the connection. */
int rbd_client_recv(rbd_client *c, rbd_reply *out, rbd_error *e);

/* One call, one reply: send then recv. An error reply is returned as 0 with out->error set;
 * the negative returns are transport failures only. */
int rbd_client_call(rbd_client *c, const char *method, const json_t *parameters, rbd_reply *out, rbd_error *e);

/* A client over an already connected stream socket (socketpair tests, inherited connections).
 * fd is owned by the client from now on: rbd_client_close closes it. Owned result. */
rbd_client *rbd_client_adopt(int fd);

#endif
