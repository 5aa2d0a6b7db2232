"""Environments, their history, and immutable versions in DynamoDB.

Environments table (``pk``, ``sk``):
- ``PROJECT#<project>`` / ``PROJECT``: the project head (latest and highest version label, sequence).
- ``PROJECT#<project>`` / ``ENV#<env>``: an environment head: version pointer, configuration, revision.
- ``HISTORY#<project>#<env>`` / ``REV#<revision:010d>``: one immutable entry per revision.
Preview heads also carry ``preview_pk = "PREVIEW"`` and ``preview_expires`` (epoch seconds): the sparse
index ``by_expiry`` lists the expired ones for the sweep without a scan.

Versions table (``project_id``, ``label``): immutable snapshots with a small summary (entity names, flow
digests, flags) that diffs read through a projection, so the state itself is only read when asked for.

There are no multi-item transactions: every change is one conditional put of the environment head on
its revision, and the history entry is derived from the head (see ``puraify.environments.base``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from puraify.environments.errors import EnvironmentExists, LabelTaken, ProjectChanged, RevisionConflict
from puraify.environments.records import EnvironmentRecord, HistoryRecord, ProjectRecord, VersionRecord
from puraify.store.clients import client
from puraify.store.items import from_item, is_condition_failure, to_item, to_value, unavailable

_WHAT = "the environment store"
_KEYS = ("pk", "sk", "preview_pk", "preview_expires")
_SUMMARY = "project_id, #l, seq, content_hash, entities, flows, flags, environment, created_at, created_by"


def _project_key(project_id: str) -> dict[str, Any]:
    return {"pk": to_value(f"PROJECT#{project_id}"), "sk": to_value("PROJECT")}


def _env_key(project_id: str, env: str) -> dict[str, Any]:
    return {"pk": to_value(f"PROJECT#{project_id}"), "sk": to_value(f"ENV#{env}")}


def _history_pk(project_id: str, env: str) -> str:
    return f"HISTORY#{project_id}#{env}"


def _body(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in from_item(item).items() if k not in _KEYS}


class DynamoEnvironmentStore:
    def __init__(self, environments_table: str, versions_table: str):
        self.table = environments_table
        self.versions_table = versions_table

    # --- reads ---------------------------------------------------------------------------

    def load(self, project_id: str, envs: list[str]) -> tuple[ProjectRecord | None, dict[str, EnvironmentRecord]]:
        """The project head and the named environment heads, in one strongly consistent batch read."""
        keys = [_project_key(project_id)] + [_env_key(project_id, e) for e in dict.fromkeys(envs)]
        project: ProjectRecord | None = None
        found: dict[str, EnvironmentRecord] = {}
        for item in self._batch_get(self.table, keys):
            if item["sk"]["S"] == "PROJECT":
                project = ProjectRecord.model_validate(_body(item))
            else:
                record = EnvironmentRecord.model_validate(_body(item))
                found[record.env] = record
        return project, found

    def list_environments(self, project_id: str) -> list[EnvironmentRecord]:
        """Every environment head of the project (expired previews included: the caller filters)."""
        items = self._query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :env)",
            ExpressionAttributeValues={":pk": to_value(f"PROJECT#{project_id}"), ":env": to_value("ENV#")},
            ConsistentRead=True,
        )
        return [EnvironmentRecord.model_validate(_body(i)) for i in items]

    def versions(self, project_id: str, labels: list[str], with_state: bool = False) -> dict[str, VersionRecord]:
        """The named versions of the project; without ``with_state`` only their summaries are read."""
        wanted = [label for label in dict.fromkeys(labels) if label]
        if not wanted:
            return {}
        keys = [{"project_id": to_value(project_id), "label": to_value(label)} for label in wanted]
        extra: dict[str, Any] = {}
        if not with_state:
            extra = {"ProjectionExpression": _SUMMARY, "ExpressionAttributeNames": {"#l": "label"}}
        found = {}
        for item in self._batch_get(self.versions_table, keys, **extra):
            body = from_item(item)
            if "state" in body:
                body["state"] = json.loads(body["state"])
            record = VersionRecord.model_validate(body)
            found[record.label] = record
        return found

    def version_hash(self, project_id: str, label: str) -> str | None:
        """A version's content hash alone (a small read that answers a conditional GET); None if absent."""
        item = self._get(
            TableName=self.versions_table,
            Key={"project_id": to_value(project_id), "label": to_value(label)},
            ProjectionExpression="content_hash",
        )
        return item["content_hash"]["S"] if item else None

    def history_entry(self, project_id: str, env: str, revision: int) -> HistoryRecord | None:
        """One history entry, read consistently."""
        item = self._get(
            TableName=self.table,
            Key={"pk": to_value(_history_pk(project_id, env)), "sk": to_value(f"REV#{revision:010d}")},
        )
        return HistoryRecord.model_validate(_body(item)) if item else None

    def history(self, project_id: str, env: str, limit: int, before: int | None = None) -> list[HistoryRecord]:
        """Up to ``limit`` entries, newest first, older than revision ``before`` when given."""
        condition = "pk = :pk AND sk < :before" if before else "pk = :pk AND begins_with(sk, :rev)"
        values = {":pk": to_value(_history_pk(project_id, env))}
        values.update({":before": to_value(f"REV#{before:010d}")} if before else {":rev": to_value("REV#")})
        items = self._query(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            ConsistentRead=True,
            limit=limit,
        )
        return [HistoryRecord.model_validate(_body(i)) for i in items]

    def expired_previews(self, at: float, limit: int = 100) -> list[EnvironmentRecord]:
        """Preview heads whose expiry has passed, through the sparse ``by_expiry`` index."""
        items = self._query(
            TableName=self.table,
            IndexName="by_expiry",
            KeyConditionExpression="preview_pk = :p AND preview_expires <= :now",
            ExpressionAttributeValues={":p": to_value("PREVIEW"), ":now": to_value(int(at))},
            limit=limit,
        )
        return [EnvironmentRecord.model_validate(_body(i)) for i in items]

    # --- writes --------------------------------------------------------------------------

    def put_environment(self, record: EnvironmentRecord, expected_revision: int | None) -> None:
        """Write an environment head if it is still at ``expected_revision`` (None: if it does not exist)."""
        item = {"pk": f"PROJECT#{record.project_id}", "sk": f"ENV#{record.env}", **record.model_dump(mode="json")}
        if record.preview and record.expires_at is not None:
            item.update(preview_pk="PREVIEW", preview_expires=int(record.expires_at))
        if expected_revision is None:
            self._put(
                lambda: EnvironmentExists(record.project_id, record.env),
                TableName=self.table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return
        self._put(
            lambda: RevisionConflict(record.project_id, record.env, self._revision(record)),
            TableName=self.table,
            Item=to_item(item),
            ConditionExpression="revision = :r",
            ExpressionAttributeValues={":r": to_value(expected_revision)},
        )

    def put_history(self, entries: list[HistoryRecord]) -> None:
        """Store history entries; each is keyed by its revision, so writing one again changes nothing."""
        unique = {(e.env, e.revision): e for e in entries}
        requests = [
            {
                "PutRequest": {
                    "Item": to_item(
                        {
                            "pk": _history_pk(e.project_id, e.env),
                            "sk": f"REV#{e.revision:010d}",
                            **e.model_dump(mode="json"),
                        }
                    )
                }
            }
            for e in unique.values()
        ]
        self._batch_write(requests)

    def put_version(self, record: VersionRecord) -> None:
        """Store a new immutable version; 409 if the label exists."""
        body = record.model_dump(mode="json")
        body["state"] = json.dumps(body["state"], separators=(",", ":"), ensure_ascii=False)
        self._put(
            lambda: LabelTaken(record.project_id, record.label),
            TableName=self.versions_table,
            Item=to_item(body),
            ConditionExpression="attribute_not_exists(project_id)",
        )

    def delete_version(self, project_id: str, label: str) -> None:
        """Remove a version that never became the project's (a lost publish race)."""
        self._delete(self.versions_table, {"project_id": to_value(project_id), "label": to_value(label)})

    def put_project(self, record: ProjectRecord, expected_seq: int | None) -> None:
        """Advance the project head if its latest sequence is still ``expected_seq`` (None: new project)."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "Item": to_item({"pk": f"PROJECT#{record.project_id}", "sk": "PROJECT", **record.model_dump()}),
        }
        if expected_seq is None:
            args["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            args["ConditionExpression"] = "latest_seq = :s"
            args["ExpressionAttributeValues"] = {":s": to_value(expected_seq)}
        self._put(lambda: ProjectChanged(record.project_id), **args)

    def delete_environment(self, project_id: str, env: str) -> None:
        """Remove an environment head and its whole history (the preview sweep)."""
        entries = self._query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": to_value(_history_pk(project_id, env))},
            ProjectionExpression="pk, sk",
        )
        self._batch_write([{"DeleteRequest": {"Key": {"pk": e["pk"], "sk": e["sk"]}}} for e in entries])
        self._delete(self.table, _env_key(project_id, env))

    # --- plumbing ------------------------------------------------------------------------

    def _revision(self, record: EnvironmentRecord) -> int | None:
        item = self._get(
            TableName=self.table, Key=_env_key(record.project_id, record.env), ProjectionExpression="revision"
        )
        return int(item["revision"]["N"]) if item else None

    def _get(self, **args: Any) -> dict[str, Any] | None:
        try:
            return client("dynamodb").get_item(ConsistentRead=True, **args).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error

    def _put(self, conflict: Callable[[], Exception], **args: Any) -> None:
        """A conditional put; ``conflict()`` is raised when the condition fails."""
        try:
            client("dynamodb").put_item(**args)
        except ClientError as error:
            if is_condition_failure(error):
                raise conflict() from error
            raise unavailable(error, _WHAT) from error
        except BotoCoreError as error:
            raise unavailable(error, _WHAT) from error

    def _batch_get(self, table: str, keys: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        pending: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True, **extra}}
        try:
            for _ in range(10):
                page = client("dynamodb").batch_get_item(RequestItems=pending)
                items.extend(page.get("Responses", {}).get(table, []))
                pending = page.get("UnprocessedKeys") or {}
                if not pending:
                    return items
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        raise unavailable(ClientError({"Error": {"Code": "Unprocessed"}}, "BatchGetItem"), _WHAT)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        try:
            for start in range(0, len(requests), 25):
                pending: dict[str, Any] = {self.table: requests[start : start + 25]}
                for _ in range(10):
                    page = client("dynamodb").batch_write_item(RequestItems=pending)
                    pending = page.get("UnprocessedItems") or {}
                    if not pending:
                        break
                else:
                    raise unavailable(ClientError({"Error": {"Code": "Unprocessed"}}, "BatchWriteItem"), _WHAT)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error

    def _delete(self, table: str, key: dict[str, Any]) -> None:
        try:
            client("dynamodb").delete_item(TableName=table, Key=key)
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error

    def _query(self, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if limit:
            kwargs["Limit"] = limit
        try:
            while True:
                page = client("dynamodb").query(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page or (limit and len(items) >= limit):
                    return items[:limit] if limit else items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
