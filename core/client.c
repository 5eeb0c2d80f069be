/* client.c — placeholder */
