"""Searches over the read model, used by the GraphQL query resolvers. They read only Elasticsearch."""
