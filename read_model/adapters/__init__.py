"""Adapters of the read model: the outbox and checkpoints in PostgreSQL, the documents in Elasticsearch."""
