/* good_predictive */
