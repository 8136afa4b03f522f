"""Adapters: the package's ports implemented on AWS services. Each takes an optional boto3 client."""
