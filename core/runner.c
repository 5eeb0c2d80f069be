/* runner.c — placeholder */
