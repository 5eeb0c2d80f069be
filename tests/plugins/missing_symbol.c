/* missing_symbol.c placeholder */
