/* test_sched.c — placeholder */
#include <criterion/criterion.h>
