"""The API's operations as a client generator sees them: a stable camelCase ``operationId``, a summary and a
description for each route, and one tag per service (the function that serves it).

``openapi.build`` names every operation from here. A route that is not listed still gets a name derived from
its handler (``query_logs`` -> ``queryLogs``) so the document stays valid, but
``tests/unit/test_openapi_names.py`` fails until it is listed: a name is a promise to every generated client,
so it is chosen once, on purpose, and never changes.
"""

from __future__ import annotations

from typing import NamedTuple


class Operation(NamedTuple):
    operation_id: str
    summary: str
    description: str


# The tag of each function's routes, and what the tag says in the document.
TAGS: dict[str, tuple[str, str]] = {
    "check": ("Checks", "May this engine do this action on this platform now? One check or a batch of up to 25."),
    "register": ("Engines", "Engine identities: registration, keys, scopes, project grants and the API version pin."),
    "config": ("Config", "Platforms, feature flags, global configuration, health and this API description."),
    "log": ("Monitoring", "Event ingest, queries, alerts, audit timelines and the overview."),
    "env": ("Environments", "Versioned configuration, environments, promotions, rollbacks and deployments."),
    "plan": ("Planning", "Policy decisions for deployments: the gate, its facts and its policy bundle."),
    "console": ("Console", "The operator console's static assets."),
}

OPERATIONS: dict[str, Operation] = {
    # Checks
    "POST /actions/check": Operation(
        "checkAction",
        "Check an action",
        "Asks whether the calling engine (or, with `checks:on_behalf`, another engine) may perform `action` on "
        '`platform` now. Send one check, or `{"checks": [...]}` for up to 25 answered in order. The answer is '
        "`allowed` with the reasons for it; a denial is a 200 with `allowed: false`, never an error.",
    ),
    # Engines
    "POST /engines/register": Operation(
        "registerEngine",
        "Register an engine",
        "Creates an engine identity with its scopes, permissions and project grants and returns its key once. "
        "The engine is pinned to the newest API version. Needs `admin`. One granting `admin` answers 202 "
        "`pending_approval` while `GrantChangesRequireApproval` is on.",
    ),
    "GET /engines": Operation(
        "listEngines", "List engines", "Every registered engine, active and revoked, without keys. Needs `admin`."
    ),
    "GET /engines/{engine_id}": Operation(
        "getEngine", "Show an engine", "One engine's scopes, grants, status and API version pin. Needs `admin`."
    ),
    "POST /engines/validate": Operation(
        "validateEngine",
        "Validate credentials",
        "Answers who the credentials belong to and what they may do: scopes, permissions and project grants.",
    ),
    "POST /engines/{engine_id}/rotate": Operation(
        "rotateEngineKey",
        "Rotate an engine's key",
        "Issues a new key; the old one keeps working for the grace period asked for. An engine may rotate its "
        "own key; another engine's needs `admin`.",
    ),
    "DELETE /engines/{engine_id}": Operation(
        "revokeEngine",
        "Revoke an engine",
        "Revokes the engine's keys at once. The last active admin cannot be revoked (409 `last_admin`). Needs `admin`.",
    ),
    "PUT /engines/{engine_id}/permissions": Operation(
        "setEnginePermissions",
        "Set an engine's permissions",
        "Replaces the engine's permissions, and its scopes and project grants when given. Needs `admin`. "
        "With `GrantChangesRequireApproval` on, answers 202 `pending_approval` until another admin approves.",
    ),
    "GET /engines/changes": Operation(
        "listGrantChanges",
        "List grant changes",
        "Grant changes waiting for a second admin (four-eyes) and their outcomes, newest first. Needs `admin`.",
    ),
    "POST /engines/changes/{change_id}/approve": Operation(
        "approveGrantChange",
        "Approve a grant change",
        "Applies a pending grant change as its requester asked it; never by the requester nor by the engine "
        "whose grants it changes. Needs `admin`.",
    ),
    "POST /engines/changes/{change_id}/reject": Operation(
        "rejectGrantChange",
        "Reject a grant change",
        "Ends a pending grant change without applying it, with a reason. Needs `admin`.",
    ),
    "PUT /engines/{engine_id}/api-version": Operation(
        "setEngineApiVersion",
        "Pin an engine's API version",
        "Sets the API version the engine's requests are served in when they send no `Puraify-Version` header. "
        "Needs `admin`.",
    ),
    # Config
    "GET /health": Operation(
        "getHealth", "Health", "Whether the control plane answers, and the version it runs. Public."
    ),
    "GET /openapi.json": Operation(
        "getOpenApi", "This API description", "The whole API as one OpenAPI 3.1 document. Public."
    ),
    "GET /docs": Operation("getDocs", "API reference page", "Swagger UI on `GET /openapi.json`. Public."),
    "GET /docs/{asset}": Operation(
        "getDocsAsset", "API reference page asset", "The reference page's script and styles. Public."
    ),
    "GET /platforms/list": Operation(
        "listPlatforms", "List platforms", "The catalog's platforms with their actions, status and API version."
    ),
    "PUT /platforms/{name}": Operation(
        "putPlatform",
        "Create or change a platform",
        "Declares a platform's actions (the scopes each needs) and its status. Needs `admin`.",
    ),
    "POST /platforms/{name}/maintenance": Operation(
        "addMaintenanceWindow",
        "Schedule a maintenance window",
        "Schedules a window during which every check of the platform is denied. Needs `admin`.",
    ),
    "GET /platforms/{name}/maintenance": Operation(
        "listMaintenanceWindows", "List maintenance windows", "The platform's scheduled maintenance windows."
    ),
    "DELETE /platforms/{name}/maintenance/{window_id}": Operation(
        "deleteMaintenanceWindow", "Cancel a maintenance window", "Removes a scheduled window. Needs `admin`."
    ),
    "GET /config/global": Operation(
        "getGlobalConfig",
        "Global configuration",
        "Feature flags, platform API versions, and the API versions this control plane serves "
        "(`supported_versions`, oldest first).",
    ),
    "PUT /config/flags/{name}": Operation(
        "putFlag", "Set a feature flag", "Switches a feature flag on or off, for everything or per platform."
    ),
    "POST /config/flags/{name}/schedule": Operation(
        "scheduleFlagChange",
        "Schedule a flag change",
        "Switches the flag on or off at a future time; checks follow it from that second. Needs `admin`.",
    ),
    "GET /config/flags/{name}/schedule": Operation(
        "listFlagSchedule", "List scheduled flag changes", "The flag's state now and its pending scheduled changes."
    ),
    "DELETE /config/flags/{name}/schedule/{schedule_id}": Operation(
        "cancelFlagChange", "Cancel a scheduled flag change", "Removes a change not yet due. Needs `admin`."
    ),
    # Monitoring
    "POST /log/engine_event": Operation(
        "recordEngineEvent", "Record an engine event", "Stores one lifecycle event of the calling engine."
    ),
    "POST /monitoring/logs": Operation(
        "ingestLogs",
        "Ingest log events",
        'Stores one event, or `{"events": [...]}`; an invalid event is rejected by index without failing the '
        "batch. Every event's project must be granted (any ungranted: the whole batch is 403). Needs `logs:write`.",
    ),
    "POST /v1/logs": Operation(
        "exportLogs",
        "Export OpenTelemetry logs",
        "OTLP/HTTP logs (`application/x-protobuf` or `application/json`) from an OpenTelemetry exporter: each "
        "LogRecord becomes one event; rejected records are counted in `partialSuccess` (docs/otlp.md). "
        "Needs `logs:write`.",
    ),
    "GET /metrics": Operation(
        "getMetrics",
        "Prometheus metrics",
        "Prometheus text exposition from stored aggregates, for the caller's granted projects only "
        "(docs/otlp.md). Needs `metrics:read`.",
    ),
    "GET /monitoring/logs": Operation(
        "queryLogs",
        "Query log events",
        "A project's events, newest first, filtered by status, engine, platform, flow, session or user; one "
        "page at a time (`cursor`). Needs `logs:read`.",
    ),
    "GET /monitoring/errors": Operation(
        "queryErrors",
        "Query error groups",
        "A project's errors grouped by fingerprint over a window, most frequent first. Needs `logs:read`.",
    ),
    "GET /monitoring/stats": Operation(
        "queryStats",
        "Query event statistics",
        "Counts of a project's events grouped by a field over a window. Needs `logs:read`.",
    ),
    "POST /monitoring/alert": Operation(
        "raiseAlert", "Raise an alert", "Opens an alert on a project (or adds to an open one). Needs `alerts:write`."
    ),
    "GET /monitoring/alerts": Operation(
        "listAlerts",
        "List alerts",
        "A project's alerts by status and severity, one page at a time (`cursor`). Needs `logs:read`.",
    ),
    "POST /monitoring/alerts/{alert_id}/acknowledge": Operation(
        "acknowledgeAlert", "Acknowledge an alert", "Marks an open alert as seen. Needs `alerts:manage`."
    ),
    "POST /monitoring/alerts/{alert_id}/resolve": Operation(
        "resolveAlert", "Resolve an alert", "Closes an alert with an optional reason. Needs `alerts:manage`."
    ),
    "GET /monitoring/audit": Operation(
        "queryAudit",
        "Audit timeline",
        "One flow's, session's or user's events, alerts, decisions and deployments in time order. Needs `logs:read`.",
    ),
    "GET /monitoring/deployments": Operation(
        "listDeploymentMarkers",
        "List deployment markers",
        "A project's deployments, for drawing them over charts. Needs `logs:read`.",
    ),
    "GET /monitoring/overview": Operation(
        "getOverview",
        "Overview",
        "The console's charts from stored counters: events, errors, checks and alerts over time. Needs `logs:read`.",
    ),
    # Environments
    "POST /env/versions": Operation(
        "publishVersion",
        "Publish a configuration version",
        "Stores a new immutable version of a project's configuration (201), or answers the same version when "
        "its content is unchanged (200). Needs `env:write`.",
    ),
    "POST /env/create": Operation(
        "createEnvironment", "Create an environment", "Creates an environment of a project. Needs `env:write`."
    ),
    "POST /env/promote": Operation(
        "promoteVersion",
        "Promote a version",
        "Deploys a version into an environment; production also needs `env:production` and the Planning "
        "gate's approval. Needs `env:write`. Into an environment with `approvals_required`, answers 202 "
        "`pending_approval` with a `change_id` and changes nothing until other engines approve it.",
    ),
    "GET /env/{project_id}/changes": Operation(
        "listChanges",
        "List change requests",
        "A project's promotions waiting for approval and their outcomes, newest first. Needs `env:approve`.",
    ),
    "POST /env/{project_id}/changes/{change_id}/approve": Operation(
        "approveChange",
        "Approve a change request",
        "Counts the caller's approval (never the requester's); the approval that reaches the count runs the "
        "promotion through the gate, bake and watch. Needs `env:approve`.",
    ),
    "POST /env/{project_id}/changes/{change_id}/reject": Operation(
        "rejectChange",
        "Reject a change request",
        "Ends a pending promotion without running it, with a reason. Needs `env:approve`.",
    ),
    "POST /env/rollback": Operation(
        "rollbackEnvironment",
        "Roll back an environment",
        "Deploys an earlier version into an environment. Needs `env:write`.",
    ),
    "GET /env/compare": Operation(
        "compareEnvironments",
        "Compare two environments",
        "What differs between two environments' resolved configuration. Needs `env:read`.",
    ),
    "GET /env/{project_id}": Operation(
        "listEnvironments", "List environments", "A project's environments and its latest version. Needs `env:read`."
    ),
    "GET /env/{project_id}/versions/{label}": Operation(
        "getVersion",
        "Show a version",
        "One published version's content, with an `ETag` (304 on `If-None-Match`). Needs `env:read`.",
    ),
    "GET /env/{project_id}/{environment}/resolved": Operation(
        "getResolvedConfig",
        "Resolved configuration",
        "The configuration an environment runs now, with an `ETag` to poll cheaply (304 on `If-None-Match`). "
        "Needs `env:read`.",
    ),
    "GET /env/{project_id}/{environment}/deployment": Operation(
        "getDeployment",
        "Current deployment",
        "The environment's latest deployment and its state (baking, done, rolled back). Needs `env:read`.",
    ),
    "GET /env/{project_id}/{environment}/history": Operation(
        "getEnvironmentHistory",
        "Environment history",
        "An environment's deployments and configuration changes, newest first. Needs `env:read`.",
    ),
    "PUT /env/{project_id}/{environment}/config": Operation(
        "updateEnvironmentConfig",
        "Change an environment's configuration",
        "Sets the environment's overrides and secrets references. Needs `env:write`.",
    ),
    # Planning
    "POST /plan/decide": Operation(
        "decideDeployment",
        "Decide a deployment",
        "Evaluates the policy for a deployment and stores the decision. Needs `plan:decide`.",
    ),
    "GET /plan/decisions": Operation(
        "listDecisions",
        "List decisions",
        "Stored decisions of a project or a deployment, newest first, one page at a time. Needs `plan:read`.",
    ),
    "GET /plan/facts": Operation(
        "getFacts", "Planning facts", "The facts the policy sees, as they are now. Needs `plan:read`."
    ),
    "GET /plan/policy": Operation(
        "getPolicy", "Policy status", "The active policy bundle's revision and its history. Needs `plan:read`."
    ),
    "PUT /plan/policy": Operation(
        "publishPolicy",
        "Publish a policy",
        "Stores a new policy bundle revision and activates it (201), or answers the active one when unchanged "
        "(200). Needs `admin`.",
    ),
    # Console
    "GET /console": Operation("getConsoleRoot", "Console", "Redirects to `/console/`. Public."),
    "GET /console/": Operation("getConsole", "Console page", "The operator console's page. Public."),
    "GET /console/{asset}": Operation(
        "getConsoleAsset", "Console asset", "The console's scripts, styles and fonts. Public."
    ),
    # Added with why and what if, containment, alert routing and the first day
    "PATCH /platforms/{name}": Operation(
        "patchPlatform",
        "Change some fields of a platform",
        "Changes only the fields given (`status`, `api_version`, `actions`) and keeps the rest, maintenance "
        "windows included. Needs `admin`; 404 `platform_not_found` for a platform the catalog lacks.",
    ),
    "GET /engines/{engine_id}/capabilities": Operation(
        "getCapabilities",
        "List an engine's capabilities",
        "Every platform and action the engine holds, each decided now by the check's own code (`allowed`, `rule`, "
        "`reason`, `required_scopes`). The engine itself and admins may read it; paginated, never silently cut.",
    ),
    "POST /actions/simulate": Operation(
        "simulateChange",
        "Simulate a change on past checks",
        "Replays the audited check decisions of a window (24 h by default, at most 7 days) with a proposed change "
        "to an engine's grants, a platform's status or a flag, and counts what would flip. Writes nothing but its "
        "own audit record. Needs `admin` and the `*` grant.",
    ),
    "POST /engines/{engine_id}/suspend": Operation(
        "suspendEngine",
        "Suspend an engine",
        "Every call the engine makes then answers 403 `engine_suspended`; its identity, keys and history stay. "
        "Needs `admin`; the last active admin cannot be suspended (409 `last_admin`).",
    ),
    "POST /engines/{engine_id}/reinstate": Operation(
        "reinstateEngine", "Reinstate a suspended engine", "Lifts a suspension. Needs `admin`."
    ),
    "GET /monitoring/alerts/{alert_id}": Operation(
        "getAlert",
        "Get an alert",
        "One alert with its history and `deliveries` (each channel, its status, attempts and last error). Needs "
        "`logs:read` and the alert's project.",
    ),
    "GET /monitoring/routes/{project_id}": Operation(
        "getAlertRoutes",
        "Get a project's alert routes",
        "The project's routing rules, secrets masked. Needs `alerts:manage` and the project's grant.",
    ),
    "PUT /monitoring/routes/{project_id}": Operation(
        "putAlertRoutes",
        "Replace a project's alert routes",
        "At most 50 routes; an alert takes the first that matches, and on down while `continue` is true. Secrets "
        "are stored as secrets and never returned. Needs `alerts:manage` and the project's grant.",
    ),
    "POST /monitoring/silences": Operation(
        "addSilence",
        "Silence alerts",
        "Alerts matching the silence are still recorded, listed and counted, but not sent, until it ends.",
    ),
    "GET /monitoring/silences": Operation("listSilences", "List silences", "A project's silences."),
    "DELETE /monitoring/silences/{silence_id}": Operation("deleteSilence", "End a silence", "Removes a silence."),
}


def derived_id(function_name: str) -> str:
    """A camelCase id from a handler's name (``query_logs`` -> ``queryLogs``), for a route not listed yet."""
    head, *rest = function_name.strip("_").split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)
