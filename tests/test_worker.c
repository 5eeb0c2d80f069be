/* test_worker.c — placeholder */
#include <criterion/criterion.h>
