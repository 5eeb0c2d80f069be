/* test_jobstore.c — placeholder */
#include <criterion/criterion.h>
