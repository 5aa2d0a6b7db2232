"""A cancelled TransactWriteItems leaves every item as it was and names each item's outcome, on every
endpoint the suites run against (on moto, through local/moto_transactions.py's item backups)."""

from __future__ import annotations

import pytest


def test_cancelled_transaction_leaves_no_partial_write_and_names_each_outcome(aws):
    dynamodb = aws.client("dynamodb")
    table = aws.name("EventsTable")

    def key(sk: str) -> dict:
        return {"pk": {"S": "EV#rollback#0"}, "sk": {"S": sk}}

    # Given an item to update and an item that exists already
    dynamodb.put_item(TableName=table, Item={**key("kept"), "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={**key("taken"), "owner": {"S": "first"}})
    # When one transaction updates the first, creates a new one and creates the existing one
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Update": {"TableName": table, "Key": key("kept"), "UpdateExpression": "SET n = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                {"Put": {"TableName": table, "Item": {**key("new"), "owner": {"S": "second"}},
                         "ConditionExpression": "attribute_not_exists(sk)"}},
                {"Put": {"TableName": table, "Item": {**key("taken"), "owner": {"S": "second"}},
                         "ConditionExpression": "attribute_not_exists(sk)",
                         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            ]
        )  # fmt: skip
    # Then the reasons name the one failed condition (with the stored item) and nothing was written
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed"]
    assert reasons[2]["Item"]["owner"] == {"S": "first"}

    def get(sk: str) -> dict | None:
        return dynamodb.get_item(TableName=table, Key=key(sk), ConsistentRead=True).get("Item")

    assert get("kept")["n"] == {"N": "1"}
    assert get("new") is None
    assert get("taken")["owner"] == {"S": "first"}
