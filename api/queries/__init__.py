"""Query resolvers: they turn GraphQL arguments into read-model searches and read nothing else."""
