"""The Planning Engine's data: fact snapshots and decisions (DynamoDB), policy bundles (versioned S3).

Key design:
- facts table: ``pk = SNAPSHOT#<scope>``, ``sk = <collected_at ISO>``; the latest snapshot is one
  descending Query with ``Limit=1``. Snapshots expire through TTL (``expires_at``).
- decisions table: ``pk = DEPLOYMENT#<deployment_id>``, ``sk = <evaluated_at ISO>#<decision_id>``,
  and the index ``by_project`` (``project_pk = PROJECT#<project_id>``, same sort key) so both
  "what was decided for this deployment" and "for this project since T" are one Query, newest first.
- bundle bucket: files under ``bundles/<revision>/<name>``, the revision's manifest beside them, and
  the active manifest at ``manifest.json``, written last. The bucket is versioned, so the manifest
  names each file's ``VersionId`` and a reader fetches exactly what was published.

The ``Memory*`` classes behave the same in memory, for unit tests and benchmarks.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.clock import now
from puraify.store.clients import client
from puraify.store.items import from_item, to_item, to_value, unavailable


class DynamoFactStore:
    def __init__(self, table: str):
        self.table = table

    def put_snapshot(self, snapshot: dict[str, Any]) -> None:
        """Store one snapshot (``scope``, ``collected_at``, ``facts``, ``expires_at``)."""
        item = {"pk": f"SNAPSHOT#{snapshot['scope']}", "sk": snapshot["collected_iso"], **snapshot}
        try:
            client("dynamodb").put_item(TableName=self.table, Item=to_item(item))
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the fact snapshot store") from error

    def latest(self, scope: str) -> dict[str, Any] | None:
        """The newest unexpired snapshot of ``scope``, or None."""
        try:
            page = client("dynamodb").query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": to_value(f"SNAPSHOT#{scope}")},
                ScanIndexForward=False,
                Limit=1,
            )
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the fact snapshot store") from error
        items = [from_item(i) for i in page.get("Items", [])]
        if not items or items[0].get("expires_at", 0) <= now():
            return None
        return items[0]


class DynamoDecisionStore:
    def __init__(self, table: str):
        self.table = table

    def put(self, record: dict[str, Any]) -> None:
        """Persist one decision; its key is unique (decision ids are random), so no condition is needed.

        Deployment ids are per project: the key is the project and the deployment, so a decision another
        project files under the same id is never read as this project's deployment's.
        """
        item = {
            "pk": deployment_key(record["project_id"], record["deployment_id"]),
            "sk": f"{record['evaluated_at']}#{record['decision_id']}",
            "project_pk": f"PROJECT#{record['project_id']}",
            "project_sk": f"{record['evaluated_at']}#{record['decision_id']}",
            **record,
        }
        try:
            client("dynamodb").put_item(TableName=self.table, Item=to_item(item))
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the decision log") from error

    def by_deployment(
        self, deployment_id: str, since: str, limit: int, before: str | None = None, project_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Unexpired decisions for a project's deployment at or after ``since`` (ISO) and before the position
        ``before`` (``<evaluated_at>#<decision_id>``, a page cursor), newest first. Without ``project_id``:
        the decisions of every project's deployment of that id (index ``by_deployment``)."""
        if project_id is None:
            return self._query(limit, "deployment_id", "sk", deployment_id, since, before, "by_deployment")
        return self._query(limit, "pk", "sk", deployment_key(project_id, deployment_id), since, before)

    def by_project(self, project_id: str, since: str, limit: int, before: str | None = None) -> list[dict[str, Any]]:
        """Unexpired decisions for a project, like ``by_deployment``."""
        return self._query(limit, "project_pk", "project_sk", f"PROJECT#{project_id}", since, before, "by_project")

    def _query(
        self, limit: int, pk: str, sk: str, key: str, since: str, before: str | None, index: str | None = None
    ) -> list[dict[str, Any]]:
        if before is not None and before < since:
            return []  # the cursor is older than ``since``: nothing is left, and DynamoDB rejects an inverted BETWEEN
        values = {":pk": to_value(key), ":since": to_value(since), ":now": to_value(int(now()))}
        condition = f"{pk} = :pk AND {sk} >= :since"
        if before is not None:
            condition = f"{pk} = :pk AND {sk} BETWEEN :since AND :before"
            values[":before"] = to_value(before)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "FilterExpression": "expires_at > :now",
            "ScanIndexForward": False,
        }
        if index:
            kwargs["IndexName"] = index
        records: list[dict[str, Any]] = []
        try:
            while len(records) < limit:
                page = client("dynamodb").query(**kwargs)
                items = [from_item(i) for i in page.get("Items", [])]
                records.extend(_strip_keys(i) for i in items if i[sk] != before)  # BETWEEN is inclusive
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the decision log") from error
        return records[:limit]


def deployment_key(project_id: str, deployment_id: str) -> str:
    """The partition of one project's deployment (project ids hold no ``#``)."""
    return f"DEPLOYMENT#{project_id}#{deployment_id}"


def _strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "project_pk", "project_sk")}


class S3BundleStore:
    """Policy bundle objects in the versioned bucket."""

    def __init__(self, bucket: str):
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> str | None:
        """Write one object; returns its S3 version id (None on an unversioned bucket)."""
        try:
            reply = client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the policy bucket") from error
        return reply.get("VersionId")

    def get(self, key: str, version_id: str | None = None) -> bytes | None:
        """An object's bytes (a given version, or the latest), or None if it does not exist."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            args["VersionId"] = version_id
        try:
            return client("s3").get_object(**args)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchVersion", "404"):
                return None
            raise unavailable(error, "the policy bucket") from error
        except BotoCoreError as error:
            raise unavailable(error, "the policy bucket") from error

    def head(self, key: str) -> str | None:
        """A token that changes whenever the object changes (version id, else ETag); None if absent."""
        try:
            reply = client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise unavailable(error, "the policy bucket") from error
        except BotoCoreError as error:
            raise unavailable(error, "the policy bucket") from error
        return reply.get("VersionId") or reply.get("ETag")

    def versions(self, key: str, limit: int) -> list[str]:
        """The object's version ids, newest first (at most ``limit``)."""
        try:
            reply = client("s3").list_object_versions(Bucket=self.bucket, Prefix=key, MaxKeys=limit)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, "the policy bucket") from error
        # S3 lists a key's versions newest first (LastModified has only second resolution).
        return [v["VersionId"] for v in reply.get("Versions", []) if v["Key"] == key][:limit]
