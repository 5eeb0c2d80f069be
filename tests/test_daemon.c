/* test_daemon.c — placeholder */
#include <criterion/criterion.h>
