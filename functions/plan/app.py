"""The Planning Engine's API: deployment decisions, their audit, facts, and the policy bundle.

Scopes and grants are checked by the service (``PlanningService.*_for``): ``POST /plan/decide`` needs
``plan:decide``; the reads need ``plan:read``; publishing a bundle (``PUT /plan/policy``) needs ``admin``.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from puraify import wiring
from puraify.http import caller, create_app, handle, request_id, respond
from puraify.observability import logger, metrics
from puraify.openapi import responses
from puraify.planning import models as m

app = create_app()

IdParam = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


@app.post("/plan/decide")
def decide(body: m.PlanDecideRequest) -> m.PlanDecideResponse:
    decision = wiring.current().planning.decide_for(caller(app), body, request_id(app))
    metrics.add_metric(name=f"PlanDecision_{decision.outcome}", unit=MetricUnit.Count, value=1)
    return decision


@app.get("/plan/decisions")
def decisions(
    deployment_id: IdParam = None,
    project_id: IdParam = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    decision_id: IdParam = None,
    request_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,256}$")] = None,
) -> m.DecisionListResponse:
    return wiring.current().planning.decisions_for(
        caller(app),
        deployment_id=deployment_id,
        project_id=project_id,
        since=since,
        limit=limit,
        cursor=cursor,
        decision_id=decision_id,
        request_id=request_id,
    )


@app.get("/plan/facts")
def facts() -> m.FactsResponse:
    return wiring.current().planning.facts_for(caller(app))


@app.get("/plan/policy")
def policy() -> m.PolicyStatusResponse:
    return wiring.current().planning.policy_for(caller(app))


@app.put("/plan/policy", responses=responses(201, 200, 409))
def publish_policy(body: m.PolicyPutRequest) -> Response[m.PolicyPutResponse]:
    published = wiring.current().planning.publish(caller(app), body, request_id(app))
    return respond(201 if published.created else 200, published)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(app, event, context)
