"""What only citizens use: their sign-in, sessions and reset links, and the wizard's steps."""
