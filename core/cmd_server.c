/* cmd_server.c — placeholder */
