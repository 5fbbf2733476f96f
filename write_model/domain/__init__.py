"""Aggregates and their rules, in plain Python: nothing here knows about storage or transport."""
