/* exit_router.c placeholder */
