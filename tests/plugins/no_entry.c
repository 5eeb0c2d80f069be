/* no_entry */
