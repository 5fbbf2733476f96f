"""Mutation resolvers: each builds a command, dispatches it, and maps the outcome to its result union."""
