/* nan_router.c placeholder */
