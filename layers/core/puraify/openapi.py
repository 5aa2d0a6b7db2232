"""The API contract: one OpenAPI 3.1 document merged from every function's own resolver.

Each function documents its routes through Powertools (models, ``Query``/``Path`` parameters,
``responses=``); ``build`` merges them and adds what is the same for every route: the engine
credentials as security schemes, the project's error envelope for every error status instead
of Powertools' ``HTTPValidationError``, and the statuses that ``puraify.http`` answers before a
route runs (401, 413, 429, 503).

A deployed config function holds only its own code, so ``make build`` packages the merged
document beside this module (``openapi.json``); a source checkout (``make run``, the tests) builds
it from ``functions/*/app.py`` on the first request and keeps it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from pathlib import Path
from typing import Any, cast

from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from puraify import __version__, operations, versions
from puraify.errors import UnavailableError

PACKAGED = Path(__file__).with_name("openapi.json")
FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"
# The sample events (events/<function>/*.json): their bodies are the request examples.
EVENTS = FUNCTIONS.parent / "events"
ERROR_REF = "#/components/schemas/ErrorResponse"
SECURITY_SCHEMES = {
    "EngineId": {"type": "apiKey", "in": "header", "name": "X-Engine-ID", "description": "The engine's id"},
    "EngineKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Engine-Key",
        "description": "The engine's key (pfk_...)",
    },
}
ENGINE_CREDENTIALS: list[dict[str, list[str]]] = [{"EngineId": [], "EngineKey": []}]
ERROR_DESCRIPTIONS = {
    400: "Bad request: an unknown `Puraify-Version` (`unsupported_version`), or a body that is not JSON "
    "(`invalid_json`) or not UTF-8 (`invalid_encoding`)",
    401: "Missing or invalid `X-Engine-ID` / `X-Engine-Key` (`unauthorized`)",
    403: "The engine lacks a scope (`missing_scope`) or a project grant (`project_not_granted`)",
    404: "No such resource",
    409: "Conflicts with the current state",
    413: "The request body is too large (`payload_too_large`)",
    422: "Invalid fields (`validation_failed`); `details` name each field",
    429: "Throttled by the API's stage limits",
    503: "The store is unavailable (`store_unavailable`); safe to retry",
}
_POWERTOOLS_ERRORS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
_extra_models: dict[str, type[BaseModel]] = {}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    """Every non-2xx answer: ``{"error": {"code", "message", "details"}, "request_id"}``."""

    error: ErrorBody
    request_id: str | None


def responses(*statuses: int, media_type: str | tuple[str, ...] = ()) -> dict[int, OpenAPIResponse]:
    """``responses=`` for a route: its success statuses (schema from its return model) and extra errors.

    ``media_type`` documents a success that is not a JSON model (the contract itself, the docs page).
    """
    success: dict[str, Any] = {"description": "Success"}
    if media_type:
        types = (media_type,) if isinstance(media_type, str) else media_type
        success["content"] = {t: {"schema": {"type": "object" if t.endswith("json") else "string"}} for t in types}
    found: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        if status == 204:
            found[status] = {"description": "Done: no content", "content": {}}
        elif status == 304:
            found[status] = {"description": "Not modified: the `If-None-Match` tag is current", "content": {}}
        elif 300 <= status < 400:
            found[status] = {"description": "Redirect to the `Location` header", "content": {}}
        else:
            found[status] = cast(OpenAPIResponse, dict(success) if status < 400 else _error_response(status))
    return found


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI query parameters for a query model that a handler validates itself."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _without_null(prop)}
        for name, prop in schema["properties"].items()
    ]


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI request body for a body that a handler parses itself (the model documents it)."""
    _extra_models[model.__name__] = model
    return {"required": True, "content": {"application/json": {"schema": {"$ref": _ref(model.__name__)}}}}


def build(apps: dict[str, Any]) -> dict[str, Any]:
    """The merged document of ``apps`` (function name -> resolver), with the shared parts added."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    from puraify.http import PUBLIC_ROUTES

    merge = OpenAPIMerge(
        title="PURAIFY control plane",
        version=__version__,
        description="Engines ask the control plane whether they may act; see the README for scopes and grants.",
        on_conflict="error",
    )
    seen: dict[str, Any] = {}
    handlers = _handlers(apps)
    for name in sorted(apps):
        schema = json.loads(apps[name].get_openapi_json_schema())
        for component, body in schema.get("components", {}).get("schemas", {}).items():
            if seen.setdefault(component, body) != body and component not in _POWERTOOLS_ERRORS:
                raise ValueError(f"two different models are both named {component}; rename one")
        merge.add_schema(schema)
    spec = json.loads(merge.get_openapi_json_schema())
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_ERRORS:
        schemas.pop(name, None)
    models: list[type[BaseModel]] = [ErrorResponse, *_extra_models.values()]
    for model in models:
        schemas.update(_component_schemas(model))
    spec["components"]["securitySchemes"] = SECURITY_SCHEMES
    spec["components"]["headers"] = {"PuraifyVersion": VERSION_HEADER}
    spec["security"] = ENGINE_CREDENTIALS
    examples = _request_examples(EVENTS)
    used: dict[str, str] = {}
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            key = f"{method.upper()} {path}"
            _name(operation, key, handlers, used)
            _complete(operation, public=(method.upper(), path) in PUBLIC_ROUTES)
            _name_responses(operation, schemas)
            _add_examples(operation, examples.get(key, {}))
            if key in versions.LIST_ENVELOPES:
                _envelope(operation, schemas, versions.LIST_ENVELOPES[key])
    spec["tags"] = [
        {"name": tag, "description": text}
        for tag, text in sorted(operations.TAGS.values())
        if any(tag in op.get("tags", []) for item in spec["paths"].values() for op in item.values())
    ]
    spec["info"]["description"] = INFO_DESCRIPTION
    spec["info"]["contact"] = {"name": "PURAIFY control plane operators"}
    spec["info"]["x-puraify-versions"] = list(versions.SUPPORTED)
    return spec


INFO_DESCRIPTION = (
    "Engines ask the control plane whether they may act; see the README for scopes and grants. "
    "This document describes API version " + versions.LATEST + ": send `Puraify-Version` to choose the version "
    "a request is served in (docs/api.md lists every version and what changed)."
)
VERSION_HEADER = {
    "description": "The API version the response was served in",
    "schema": {"type": "string", "enum": list(versions.SUPPORTED)},
}
VERSION_HEADER_REF = "#/components/headers/PuraifyVersion"
VERSION_PARAMETER = {
    "name": versions.HEADER,
    "in": "header",
    "required": False,
    "description": "The API version to serve this request in (default: the engine's pinned version; "
    "an unknown one is 400 `unsupported_version`)",
    "schema": {"type": "string", "enum": list(versions.SUPPORTED)},
}


def _handlers(apps: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """``"METHOD /path"`` -> (function name, Powertools route) for every route of ``apps``."""
    found = {}
    for name, app in apps.items():
        # Powertools keeps its routes in these two lists (no public accessor); each knows its handler.
        for route in [*app._static_routes, *app._dynamic_routes]:
            found[f"{route.method} {route.openapi_path}"] = (name, route)
    return found


def _name(operation: dict[str, Any], key: str, handlers: dict[str, tuple[str, Any]], used: dict[str, str]) -> None:
    """operationId, summary, description and tag: the route's own (set on its decorator), else
    ``puraify/operations.py``'s, else derived from the handler (a test asks for a listed name)."""
    function, route = handlers.get(key, ("", None))
    listed = operations.OPERATIONS.get(key)
    handler = route.func.__name__ if route is not None else key.split(" ", 1)[1].replace("/", "_")
    own_id = route is not None and route.operation_id != route._generate_operation_id()
    operation_id = route.operation_id if own_id else listed.operation_id if listed else operations.derived_id(handler)
    if operation_id in used:
        raise ValueError(f"operationId {operation_id} names both {used[operation_id]} and {key}")
    used[operation_id] = key
    words = handler.strip("_").replace("_", " ")
    summary = (route.summary if route is not None else None) or (listed.summary if listed else words.capitalize())
    docstring = (route.func.__doc__ or "").strip() if route is not None else ""
    description = (route.description if route is not None else None) or (
        listed.description if listed else docstring or f"{summary} (`{key}`)."
    )
    operation["operationId"] = operation_id
    operation["summary"] = summary
    operation["description"] = description
    operation["tags"] = (route.tags if route is not None else None) or [
        operations.TAGS.get(function, (function.title() or "Other", ""))[0]
    ]


def _name_responses(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A success answer's inline schema becomes a named one (``QueryLogsResponse``, not ``...Return``)."""
    base = operation["operationId"][:1].upper() + operation["operationId"][1:]
    for status, answer in operation.get("responses", {}).items():
        content = answer.get("content", {}).get("application/json")
        if int(status) >= 300 or not content or "$ref" in content.get("schema", {"$ref": ""}):
            continue
        schema = dict(content["schema"])
        options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
        if len(options) == 1 and "$ref" in options[0]:  # a 200 or a 304 without a body: the 200 is the model
            content["schema"] = options[0]
            continue
        schema.pop("title", None)
        name = f"{base}Response"
        schemas[name] = {"title": name, **schema}
        content["schema"] = {"$ref": _ref(name)}


def _envelope(operation: dict[str, Any], schemas: dict[str, Any], key: str) -> None:
    """The list route's answer as this version shapes it: ``{"items": [...], "next_cursor"}`` (versions.py)."""
    content = operation["responses"]["200"]["content"]["application/json"]
    name = content["schema"]["$ref"].rsplit("/", 1)[1]
    schema = schemas[name]
    properties = dict(schema.get("properties", {}))
    items = properties.pop(key, {"type": "array", "items": {"type": "object"}})
    properties.pop("next_cursor", None)
    cursor = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "Pass as `cursor` for the next page; null on the last page",
    }
    required = [field for field in schema.get("required", []) if field not in (key, "next_cursor")]
    schemas[name] = {
        **schema,
        "properties": {"items": {**items, "title": "Items"}, "next_cursor": cursor, **properties},
        "required": ["items", "next_cursor", *required],
    }


def _request_examples(folder: Path) -> dict[str, dict[str, Any]]:
    """``"METHOD /path"`` -> {sample event name: its JSON body}, from the sample events."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*/*.json")):
        event = json.loads(path.read_text())
        route, body = event.get("routeKey"), event.get("body")
        if not route or not body or event.get("isBase64Encoded"):
            continue
        found.setdefault(route, {})[path.stem] = json.loads(body)
    return found


def _add_examples(operation: dict[str, Any], examples: dict[str, Any]) -> None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None and examples:
        content["examples"] = {name: {"summary": f"events/{name}.json", "value": v} for name, v in examples.items()}


def _complete(operation: dict[str, Any], *, public: bool) -> None:
    answers = operation.setdefault("responses", {})
    for parameter in operation.get("parameters", []):
        parameter["schema"] = _without_null(parameter.get("schema", {}))
    validated = bool(operation.get("parameters") or operation.get("requestBody"))
    operation["parameters"] = [*operation.get("parameters", []), dict(VERSION_PARAMETER)]
    errors = {400, 429}
    if public:
        operation["security"] = []
    else:
        errors |= {401, 403, 503}
    if operation.get("requestBody"):
        errors |= {400, 413}
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        errors.add(404)
    if validated:
        errors.add(422)
    else:
        answers.pop("422", None)
    for status in sorted(errors):
        answers[str(status)] = _error_response(status)
    for status in [s for s in answers if int(s) >= 400]:
        answers[status] = _error_response(int(status))
    for answer in answers.values():
        answer["headers"] = {**answer.get("headers", {}), versions.HEADER: {"$ref": VERSION_HEADER_REF}}
    operation["responses"] = dict(sorted(answers.items()))


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def _ref(name: str) -> str:
    return f"#/components/schemas/{name}"


def _component_schemas(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    found = schema.pop("$defs", {})
    found[model.__name__] = schema
    return found


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the ``null`` branch of an optional value (absent means null)."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


def _load_apps(folder: Path) -> dict[str, Any]:
    """Every function's resolver, reusing modules the local gateway already loaded."""
    apps = {}
    for path in sorted(folder.glob("*/app.py")):
        name = f"puraify_function_{path.parent.name}"
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
        if hasattr(module, "app"):
            apps[path.parent.name] = module.app
    return apps


_document: str | None = None
_lock = threading.Lock()


def document() -> str:
    """The merged document as JSON text: the packaged one, else built from the sources once."""
    global _document
    with _lock:
        if _document is None:
            if PACKAGED.exists():
                _document = PACKAGED.read_text()
            elif not FUNCTIONS.is_dir():
                raise UnavailableError("this build was packaged without its API description (make build)")
            else:
                _document = json.dumps(build(_load_apps(FUNCTIONS)), separators=(",", ":"))
        return _document


# Swagger UI's assets as Powertools ships them (no CDN): the page links them from /docs/<asset>.
SWAGGER_UI = Path(swagger_ui.__file__).parent
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>PURAIFY control plane API</title>
<link rel="stylesheet" href="docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script><script src="docs/init.js"></script></body>
</html>
"""
_INIT = """window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", validatorUrl: null,
  deepLinking: true, persistAuthorization: false});
"""
DOCS_ASSETS = {
    "swagger-ui.css": ("text/css; charset=utf-8", lambda: (SWAGGER_UI / "swagger-ui.min.css").read_text()),
    "swagger-ui-bundle.js": (
        "text/javascript; charset=utf-8",
        lambda: (SWAGGER_UI / "swagger-ui-bundle.min.js").read_text(),
    ),
    "init.js": ("text/javascript; charset=utf-8", lambda: _INIT),
}
# Only our own origin: the page loads nothing from elsewhere and runs no inline script.
DOCS_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


def main() -> None:
    """``python -m puraify.openapi [OUT]``: write the merged document (``make build`` packages it)."""
    from puraify import openapi  # this module as the functions import it, not as __main__

    text = json.dumps(openapi.build(openapi._load_apps(FUNCTIONS)), indent=1)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
