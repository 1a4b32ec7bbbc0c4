"""Demonstration and tests only: the built-in payment provider's pages."""
