/* cascade: being written */
