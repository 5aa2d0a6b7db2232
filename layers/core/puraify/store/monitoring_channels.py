"""The AWS side of alert dispatch: the SNS topic and the Slack webhook URL kept in SSM."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from puraify.monitoring.ports import ChannelError
from puraify.store.clients import client


class SsmParameters:
    def get(self, name: str) -> str | None:
        """The decrypted value of parameter ``name``, or None when it does not exist."""
        try:
            reply = client("ssm").get_parameter(Name=name, WithDecryption=True)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
                return None
            raise ChannelError(f"ssm: {error.response.get('Error', {}).get('Code', 'error')}") from error
        except BotoCoreError as error:
            raise ChannelError(f"ssm: {type(error).__name__}") from error
        return reply["Parameter"]["Value"]


class SnsTopic:
    def publish(self, topic_arn: str, subject: str, message: str) -> str:
        """Publish to the topic; returns the message id."""
        try:
            reply = client("sns").publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)
        except ClientError as error:
            raise ChannelError(f"sns: {error.response.get('Error', {}).get('Code', 'error')}") from error
        except BotoCoreError as error:
            raise ChannelError(f"sns: {type(error).__name__}") from error
        return reply["MessageId"]
