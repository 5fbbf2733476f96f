"""The GraphQL API on Starlette, the composition root, and the command line."""
