/* jobspec.c — placeholder */
