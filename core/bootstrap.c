/* bootstrap.c: being written */
