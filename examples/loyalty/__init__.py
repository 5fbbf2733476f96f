"""Loyalty points: a separate service that builds its own model from Twofold's order events on Kafka."""
