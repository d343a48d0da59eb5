"""One module per way of running the checks; the CLI imports only the one in use."""
