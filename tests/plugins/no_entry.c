/* no_entry.c — test fixture: a shared object without rb_router_entry. */
__attribute__((visibility("default"))) int some_other_function(void);

int some_other_function(void)
{
	return 42;
}
