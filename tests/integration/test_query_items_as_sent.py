"""A DynamoDB Query's items are taken as sent (store/clients.py) and equal what botocore's parser gives:
every attribute type, the answer's other fields, and binary values (which fall back to the parser)."""

from __future__ import annotations

from puraify.store.clients import client

ITEMS = [
    {"pk": {"S": "P"}, "sk": {"S": "1"}, "n": {"N": "42"}, "f": {"N": "1.5"}, "t": {"BOOL": True},
     "none": {"NULL": True}, "m": {"M": {"l": {"L": [{"S": "x"}, {"N": "2"}, {"M": {}}]}}}, "ss": {"SS": ["a"]},
     "ns": {"NS": ["3"]}, "BOOLEAN_NAMED": {"S": "B"}},
    {"pk": {"S": "P"}, "sk": {"S": "2"}, "s": {"S": "żółw \"quoted\" 🐢"}},
]  # fmt: skip


def _query(ddb, table: str, **extra) -> dict:
    page = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "P"}}, **extra)  # fmt: skip
    return {k: v for k, v in page.items() if k != "ResponseMetadata"}


def test_query_items_as_sent_equal_botocores_parse(aws) -> None:
    table = aws.name("AuditTable")
    ours = client("dynamodb")
    theirs = aws.client("dynamodb")  # botocore's parser, as every client has it
    for item in ITEMS:
        ours.put_item(TableName=table, Item=item)
    # Then every type, and the paging fields, are what the parser gives
    assert _query(ours, table) == _query(theirs, table)
    assert _query(ours, table, Limit=1) == _query(theirs, table, Limit=1)  # LastEvaluatedKey too
    assert _query(ours, table)["Items"][0]["ns"] == {"NS": ["3"]}
    # And a binary value is parsed as usual (bytes, not its base64 text)
    ours.put_item(TableName=table, Item={"pk": {"S": "P"}, "sk": {"S": "3"}, "b": {"B": b"\x00\xff"}})
    assert _query(ours, table) == _query(theirs, table)
    assert _query(ours, table)["Items"][2]["b"] == {"B": b"\x00\xff"}


def test_the_items_skip_the_parser_unless_binary_or_an_error() -> None:
    from puraify.store.clients import _items_as_sent

    sent = {"status_code": 200, "body": b'{"Count": 1, "Items": [{"t": {"BOOL": true}}]}'}
    taken: dict = {}
    _items_as_sent(response_dict=sent, customized_response_dict=taken)
    assert taken == {"Items": [{"t": {"BOOL": True}}]} and sent["body"] == b'{"Count": 1}'
    for untouched in ({"status_code": 200, "body": b'{"Items": [{"b": {"B": "AP8="}}]}'},
                      {"status_code": 400, "body": b'{"__type": "ValidationException", "Items": []}'}):  # fmt: skip
        before, taken = dict(untouched), {}
        _items_as_sent(response_dict=untouched, customized_response_dict=taken)
        assert taken == {} and untouched == before
