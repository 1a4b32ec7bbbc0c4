"""Demonstration and tests only: the demo accounts and the built-in payment provider.

Nothing here runs beside a real payment provider (see ``app.py``).
"""
