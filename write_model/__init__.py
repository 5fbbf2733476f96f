"""The write side of Twofold: the commerce domain, its commands and handlers, and their persistence."""
