/* families.c: being written */
