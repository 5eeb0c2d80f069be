/* proto.c — placeholder */
