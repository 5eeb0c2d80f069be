/* htmlreport.c: being written */
