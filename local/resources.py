"""Creates the template's tables, buckets and topics on an AWS endpoint (moto, LocalStack, ...).

The endpoints are boto3's own to resolve from the environment (``AWS_ENDPOINT_URL`` and the
per-service ``AWS_ENDPOINT_URL_DYNAMODB`` ...), exactly as the functions' clients resolve them.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.template import REGION, Template


def _client(service: str) -> Any:
    variable = f"AWS_ENDPOINT_URL_{service.upper()}"
    return _cached_client(service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get(variable))


@lru_cache(maxsize=32)
def _cached_client(service: str, endpoint: str | None, service_endpoint: str | None) -> Any:
    # The endpoints are the cache key only: boto3 reads them from the environment itself.
    return boto3.session.Session().client(service, region_name=REGION)


def create_all(template: Template) -> None:
    """Create every declared resource that does not exist yet (safe to run again), and record the
    ARN each create call answered in ``template.created`` (an emulator names its own account)."""
    dynamodb = _client("dynamodb")
    for logical_id, props in template.tables().items():
        template.created[logical_id] = _create_table(dynamodb, template.physical_name(logical_id), props)
    if template.buckets():
        s3 = _client("s3")
        for logical_id, props in template.buckets().items():
            _create_bucket(s3, template.physical_name(logical_id), props)
    if template.topics():
        sns = _client("sns")
        for logical_id in template.topics():
            template.created[logical_id] = sns.create_topic(Name=template.physical_name(logical_id))["TopicArn"]


def _create_table(dynamodb: Any, name: str, props: dict[str, Any]) -> str:
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    try:
        arn: str = dynamodb.create_table(**args)["TableDescription"]["TableArn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return _add_missing_indexes(dynamodb, name, props)
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    return arn


def _add_missing_indexes(dynamodb: Any, name: str, props: dict[str, Any]) -> str:
    """Add the template's global secondary indexes a kept table (``make run``'s state) does not have yet,
    one at a time as DynamoDB requires; returns the table's ARN."""
    table = dynamodb.describe_table(TableName=name)["Table"]
    have = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in props.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in have:
            continue
        used = {key["AttributeName"] for key in index["KeySchema"]}
        dynamodb.update_table(
            TableName=name,
            AttributeDefinitions=[a for a in props["AttributeDefinitions"] if a["AttributeName"] in used],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        for _ in range(600):  # backfilled: a few seconds on the local emulators
            indexes = dynamodb.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
            if any(i["IndexName"] == index["IndexName"] and i.get("IndexStatus") == "ACTIVE" for i in indexes):
                break
            time.sleep(0.1)
    return str(table["TableArn"])


def _create_bucket(s3: Any, name: str, props: dict[str, Any]) -> None:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
