"""AWS sources: the read-only live audit over boto3."""

from validator.lazy_dataclass import materialize_all

# The audit builds the model in threads (regions, accounts, knowledge bases): every lazy
# dataclass is completed before any of them starts (validator.lazy_dataclass).
materialize_all()
