/* sched.c — placeholder */
