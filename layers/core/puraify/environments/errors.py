"""Errors of the Environment Manager (mapped to HTTP by ``puraify.http`` like every ``PuraifyError``)."""

from __future__ import annotations

from puraify.errors import ConflictError


class RevisionConflict(ConflictError):
    """Another change of the environment won the race; the caller may re-read and retry."""

    code = "revision_conflict"

    def __init__(self, project_id: str, env: str, current_revision: int | None):
        super().__init__(
            f"environment '{env}' of project '{project_id}' changed concurrently "
            f"(now at revision {current_revision}); re-read and retry",
            details=[{"field": "revision", "current_revision": current_revision}],
        )
        self.current_revision = current_revision


class EnvironmentExists(ConflictError):
    code = "env_exists"

    def __init__(self, project_id: str, env: str):
        super().__init__(f"environment '{env}' of project '{project_id}' already exists")


class LabelTaken(ConflictError):
    code = "label_exists"

    def __init__(self, project_id: str, label: str):
        super().__init__(
            f"version '{label}' already exists in project '{project_id}'; versions are immutable",
            details=[{"field": "label", "message": "labels must be new"}],
        )


class ProjectChanged(ConflictError):
    code = "concurrent_publish"

    def __init__(self, project_id: str):
        super().__init__(f"another version of project '{project_id}' was published concurrently; retry")


class DeploymentChanged(ConflictError):
    """Another instance of the deployment watch updated the deployment first."""

    code = "deployment_changed"

    def __init__(self, deployment_id: str):
        super().__init__(f"deployment {deployment_id} changed concurrently")


class ChangePending(ConflictError):
    """An environment has a promotion waiting for approvals: a second one waits for it to end."""

    code = "change_pending"

    def __init__(self, project_id: str, env: str, change_id: str):
        super().__init__(
            f"'{env}' of project '{project_id}' has a promotion waiting for approval ({change_id}); approve or "
            f"reject it first (POST /env/{project_id}/changes/{change_id}/approve or .../reject)",
            details=[{"field": "target_env", "message": f"change {change_id} is pending", "change_id": change_id}],
        )
        self.change_id = change_id


class ChangeChanged(ConflictError):
    """Another approval or rejection of the change request was written first; re-read and retry."""

    code = "change_changed"

    def __init__(self, change_id: str):
        super().__init__(f"change {change_id} changed concurrently; re-read it and retry")
