"""Creates the template's tables, buckets and topics on an AWS endpoint (moto, LocalStack, ...)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.template import REGION, Template


@lru_cache(maxsize=16)
def _client(service: str, endpoint_url: str) -> Any:
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=endpoint_url)


def create_all(template: Template, endpoint_url: str) -> None:
    """Create every declared resource that does not exist yet (safe to run again)."""
    dynamodb = _client("dynamodb", endpoint_url)
    for logical_id, props in template.tables().items():
        _create_table(dynamodb, template.physical_name(logical_id), props)
    if template.buckets():
        s3 = _client("s3", endpoint_url)
        for logical_id, props in template.buckets().items():
            _create_bucket(s3, template.physical_name(logical_id), props)
    if template.topics():
        sns = _client("sns", endpoint_url)
        for logical_id in template.topics():
            sns.create_topic(Name=template.physical_name(logical_id))


def _create_table(dynamodb: Any, name: str, props: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    try:
        dynamodb.create_table(**args)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )


def _create_bucket(s3: Any, name: str, props: dict[str, Any]) -> None:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
