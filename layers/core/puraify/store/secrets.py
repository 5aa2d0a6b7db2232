"""Secret variables in AWS Secrets Manager: one secret per project, environment and variable.

The secret's name is ``<prefix>/<project>/<env>/<variable>``, so two environments never share an
entry; every write adds a secret version, and DynamoDB keeps only (name, version id) references,
which is what lets a rollback restore an older value.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from puraify.store.clients import client
from puraify.store.items import error_code, unavailable

_WHAT = "the secret store"


class SecretsManagerStore:
    def __init__(self, prefix: str):
        self.prefix = prefix.strip("/")

    def name(self, project_id: str, env: str, variable: str) -> str:
        """The secret entry of one variable of one environment."""
        return f"{self.prefix}/{project_id}/{env}/{variable}"

    def put(self, project_id: str, env: str, variable: str, value: str, token: str) -> tuple[str, str]:
        """Store ``value`` as a new version; returns (secret name, version id).

        ``token`` (a client request token) makes a retried write return the same version.
        """
        name = self.name(project_id, env, variable)
        sm = client("secretsmanager")
        try:
            try:
                found = sm.put_secret_value(SecretId=name, SecretString=value, ClientRequestToken=token)
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
                found = sm.create_secret(
                    Name=name,
                    SecretString=value,
                    ClientRequestToken=token,
                    Tags=[{"Key": "puraify:project", "Value": project_id}, {"Key": "puraify:env", "Value": env}],
                )
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error
        return name, found["VersionId"]

    def get(self, name: str, version: str) -> str:
        """The value of one secret version."""
        try:
            return client("secretsmanager").get_secret_value(SecretId=name, VersionId=version)["SecretString"]
        except (BotoCoreError, ClientError) as error:
            raise unavailable(error, _WHAT) from error

    def delete(self, name: str) -> bool:
        """Delete a secret at once (previews are temporary); False if it did not exist."""
        try:
            client("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return False
            raise unavailable(error, _WHAT) from error
        except BotoCoreError as error:
            raise unavailable(error, _WHAT) from error
        return True
