"""PostgreSQL adapters of the write model: tables, repositories, the unit of work and the outbox."""
