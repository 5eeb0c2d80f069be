/* shmds.c — placeholder */
