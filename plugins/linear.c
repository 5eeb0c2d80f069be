/* linear: being written */
