/* registry.c — placeholder */
