/* jobstore.c — placeholder */
