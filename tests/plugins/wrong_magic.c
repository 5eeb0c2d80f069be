/* wrong_magic */
