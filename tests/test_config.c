/* test_config.c — placeholder */
#include <criterion/criterion.h>
