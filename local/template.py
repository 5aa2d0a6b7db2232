"""Reads ``template.yaml``: functions with their routes and schedules, tables, buckets, topics,
and the environment each function gets. The local runner and the tests use it, so neither
repeats a resource name, a key schema or a route.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # only until the resources exist: then the emulator's own account (from their ARNs)


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML with CloudFormation's short-form tags (``!Ref X`` -> ``{"Ref": "X"}``); libyaml when present."""


def _tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str

    @property
    def pattern(self) -> re.Pattern[str]:
        # ``{name+}`` is API Gateway's greedy parameter: it spans slashes; ``{name}`` is one segment.
        greedy = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", greedy) + "$")


@dataclass
class Function:
    logical_id: str
    code_uri: str
    handler: str
    routes: list[Route] = field(default_factory=list)
    schedules: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return ROOT / self.code_uri


@lru_cache(maxsize=4)
def _parse(path: Path, modified: float) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


# Parameters whose local value differs from the deployed default: alert notifications may go to http
# and loopback receivers (a test's server on 127.0.0.1), which a deployed stack refuses.
LOCAL_PARAMETERS = {"AllowPrivateWebhooks": "true"}


class Template:
    def __init__(self, path: Path = TEMPLATE, prefix: str = ""):
        self.body = _parse(path, path.stat().st_mtime)  # shared: never mutated
        self.prefix = prefix
        self.resources: dict[str, dict[str, Any]] = self.body["Resources"]
        self.parameters = {k: str(v.get("Default", "")) for k, v in self.body.get("Parameters", {}).items()}
        self.parameters.update(LOCAL_PARAMETERS)
        if os.environ.get("PURAIFY_GRANT_APPROVALS") == "1":  # make run: four-eyes on grants (README)
            self.parameters["GrantChangesRequireApproval"] = "true"
        self.created: dict[str, str] = {}  # logical id -> the ARN its create call answered (local.resources)

    # --- resources ------------------------------------------------------------------------

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.resources.items() if v["Type"] in types}

    def tables(self) -> dict[str, dict[str, Any]]:
        return self.of_type("AWS::DynamoDB::Table")

    def buckets(self) -> dict[str, dict[str, Any]]:
        return self.of_type("AWS::S3::Bucket")

    def topics(self) -> dict[str, dict[str, Any]]:
        return self.of_type("AWS::SNS::Topic")

    def physical_name(self, logical_id: str) -> str:
        """The local name of a resource: its logical id, lower-cased for S3, behind the prefix."""
        kind = self.resources[logical_id]["Type"]
        name = f"{self.prefix}{logical_id}"
        return name.lower() if kind == "AWS::S3::Bucket" else name

    @property
    def account(self) -> str:
        """The emulator's account, as its ARNs name it (LocalStack: 000000000000, moto: 123456789012)."""
        accounts = [arn.split(":")[4] for arn in self.created.values() if arn.split(":")[4]]
        return accounts[0] if accounts else ACCOUNT

    def arn(self, logical_id: str) -> str:
        """The ARN the emulator gave the resource, once created; before that, what it would be on moto."""
        if logical_id in self.created:
            return self.created[logical_id]
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{REGION}:{self.account}:table/{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{self.account}:{name}"
        return f"arn:aws:local:{REGION}:{self.account}:{name}"

    def ref(self, name: str) -> str:
        """What ``!Ref name`` resolves to locally (parameters take their defaults)."""
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": self.account, "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if self.resources.get(name, {}).get("Type") == "AWS::SNS::Topic":
            return self.arn(name)
        return self.physical_name(name)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.arn(arg[0])
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                return re.sub(r"\$\{([\w:]+)(?:\.\w+)?\}", lambda m: self.ref(m.group(1)), text)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    # --- functions ------------------------------------------------------------------------

    def functions(self) -> dict[str, Function]:
        globals_ = self.body.get("Globals", {}).get("Function", {})
        base_env = globals_.get("Environment", {}).get("Variables", {})
        found: dict[str, Function] = {}
        for logical_id, props in self.of_type("AWS::Serverless::Function").items():
            env = {**base_env, **props.get("Environment", {}).get("Variables", {})}
            fn = Function(
                logical_id=logical_id,
                code_uri=props["CodeUri"].rstrip("/"),
                handler=props.get("Handler", "app.lambda_handler"),
                environment={k: str(self.resolve(v)) for k, v in env.items()},
            )
            for event in props.get("Events", {}).values():
                ev_props = event.get("Properties", {})
                if event["Type"] == "HttpApi":
                    fn.routes.append(Route(ev_props["Method"].upper(), ev_props["Path"], logical_id))
                elif event["Type"] == "Schedule":
                    fn.schedules.append(ev_props["Schedule"])
            found[logical_id] = fn
        return found

    def routes(self) -> list[Route]:
        return [route for fn in self.functions().values() for route in fn.routes]

    def environment(self) -> dict[str, str]:
        """The union of every function's environment (one process serves them all locally)."""
        merged: dict[str, str] = {}
        for fn in self.functions().values():
            for key, value in fn.environment.items():
                if merged.get(key, value) != value:
                    raise ValueError(f"functions disagree on {key}: {merged[key]!r} vs {value!r}")
                merged[key] = value
        return merged
