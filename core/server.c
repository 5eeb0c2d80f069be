/* server.c — placeholder */
