"""AWS sources: the read-only live audit over boto3."""
