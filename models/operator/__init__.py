"""What only the agents who run the service use: their accounts, sessions and the audit log."""
