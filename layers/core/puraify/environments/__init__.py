"""Environment Manager: environments per project, immutable versions, promotion, rollback, previews."""

from __future__ import annotations

from typing import Any

from puraify.environments.service import Environments


def build(rt: Any) -> Environments:
    """The service over DynamoDB and Secrets Manager, configured from ``rt.settings``."""
    from puraify.environments.gate import post_deploy_judge, production_gate
    from puraify.planning import monitoring_alert
    from puraify.store.deployments import DynamoDeploymentStore
    from puraify.store.environments import DynamoEnvironmentStore
    from puraify.store.secrets import SecretsManagerStore

    settings = rt.settings
    return Environments(
        DynamoEnvironmentStore(settings.environments_table, settings.versions_table),
        SecretsManagerStore(settings.secrets_prefix),
        rt.audit,
        gate=production_gate(rt),
        url_base=settings.preview_url_base,
        deployments=DynamoDeploymentStore(settings.deployments_table),
        judge=post_deploy_judge(rt),
        alert=monitoring_alert(rt),
        default_bake_seconds=round(settings.deployment_bake_minutes * 60),
        deployment_retention_days=settings.deployment_retention_days,
    )


def service(rt: Any) -> Environments:
    """This runtime's Environment Manager (built once per process)."""
    return rt.service("environments", build)
