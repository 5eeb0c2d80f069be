/* daemon_config.c — placeholder */
