"""The read side of Twofold: Elasticsearch indexes, the projector that fills them, and the searches over them."""
