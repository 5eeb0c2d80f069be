/* knn: being written */
