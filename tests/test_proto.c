/* test_proto.c — placeholder */
#include <criterion/criterion.h>
