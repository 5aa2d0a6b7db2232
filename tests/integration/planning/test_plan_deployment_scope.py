"""Deployment ids are per project: a decision another project files under the same id is never listed
as this project's deployment's, and cannot bury its decisions."""

from __future__ import annotations

VICTIM, ATTACKER = "pf-bank", "pf-mallory"
DEPLOYMENT = "deploy-2026-12-06"


def _decide(invoke, who, project: str):
    body = {"deployment_id": DEPLOYMENT, "project_id": project, "environment": "production"}
    reply = invoke("plan/decide", engine=who, body=body)
    assert reply.status == 200, reply.body
    return reply.body


def _listed(invoke, who, **query) -> list[dict]:
    reply = invoke("plan/decisions", engine=who, query={"deployment_id": DEPLOYMENT, **query})
    assert reply.status == 200, reply.body
    return reply.body["decisions"]


def test_a_decision_filed_under_another_projects_deployment_id_stays_in_its_own_project(
    aws, admin, system, gate, invoke
):
    # Given the victim's decision on its deployment, and an engine granted only its own project
    victim = _decide(invoke, admin, VICTIM)
    registered = invoke(
        "register/register",
        engine=admin,
        body={"engine_id": "mallory", "scopes": ["plan:decide", "plan:read"], "projects": [ATTACKER]},
    )
    mallory = ("mallory", registered.body["engine_key"])
    # When it decides 60 times with the victim's deployment id and its own project (the report's replay)
    made = [_decide(invoke, mallory, ATTACKER) for _ in range(60)]
    # Then the victim's deployment lists only the victim's decision, even one page of 50 deep
    mine = _listed(invoke, admin, project_id=VICTIM, limit="50")
    assert [d["decision_id"] for d in mine] == [victim["decision_id"]]
    # And the attacker's decisions are its own project's deployment of that id
    theirs = _listed(invoke, mallory, project_id=ATTACKER, limit="100")
    assert {d["decision_id"] for d in theirs} == {d["decision_id"] for d in made}
    assert {d["project_id"] for d in theirs} == {ATTACKER}
    # And it still cannot read the victim's
    refused = invoke("plan/decisions", engine=mallory, query={"deployment_id": DEPLOYMENT, "project_id": VICTIM})
    assert refused.status == 403
    # And an engine granted every project sees both projects' deployments of the id, each named by project
    every = _listed(invoke, admin, limit="100")
    assert len(every) == 61 and {d["project_id"] for d in every} == {VICTIM, ATTACKER}


def test_a_kept_table_gets_the_index_the_template_added(aws):
    # Given a decisions table made before the by_deployment index existed (make run keeps its tables)
    from local.resources import create_all

    ddb = aws.client("dynamodb")
    name = aws.name("PlanDecisionsTable")
    props = aws.template.tables()["PlanDecisionsTable"]
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    older = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] != "by_deployment"]
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[a for a in props["AttributeDefinitions"] if a["AttributeName"] != "deployment_id"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=older,
        BillingMode="PAY_PER_REQUEST",
    )
    # When the runner starts again
    create_all(aws.template)
    # Then the table has every index of the template
    indexes = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"] for i in indexes} == {i["IndexName"] for i in props["GlobalSecondaryIndexes"]}
    assert "by_deployment" in {i["IndexName"] for i in indexes}
