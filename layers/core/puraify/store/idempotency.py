"""Where Powertools keeps idempotency records: DynamoDB (TTL on ``expiration``), or memory in unit tests."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from puraify.store.clients import client


def dynamo_persistence(table: str) -> DynamoDBPersistenceLayer:
    """Powertools' DynamoDB layer on the process's shared client (so endpoint overrides apply)."""
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))
