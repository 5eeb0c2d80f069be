/* rbd_worker.c — placeholder */
int main(void)
{
	return 1;
}
