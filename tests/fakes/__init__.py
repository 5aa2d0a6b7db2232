"""In-memory twins of the stores, for unit tests and benchmarks: not part of the shipped layer.

Each is held to its DynamoDB/S3 adapter by the same behavioural tests in ``tests/contract``.
"""
