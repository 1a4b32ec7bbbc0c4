"""Blueprints, by who they serve: ``citizen``, ``shared`` and ``demo`` (see README « Code »)."""
