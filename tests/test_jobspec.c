/* test_jobspec.c — placeholder */
#include <criterion/criterion.h>
