/* wrong_abi */
