"""Ports and the use cases that run on them."""
