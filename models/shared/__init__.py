"""What every part of the service relies on: database, clock, mail, PDF layout, security."""
