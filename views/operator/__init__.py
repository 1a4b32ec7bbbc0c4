"""What the operators who run the service use: the command-line commands."""
