"""Terraform sources: HCL, plan JSON, and their shared mapping to the model."""
