/* compare.c: being written */
