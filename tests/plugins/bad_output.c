/* bad_output */
