/* mlp: being written */
