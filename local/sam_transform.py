"""The template as CloudFormation deploys it: the SAM transform (aws-sam-translator) run locally, so that
`make lint` can scan the IAM role SAM generates for each function from its ``Policies``. checkov reads only
``AWS::IAM::*`` resources for its IAM checks, and template.yaml declares none.

Runs with .venv-checkov's Python (aws-sam-translator is installed beside checkov, not in .venv):

    .venv-checkov/bin/python local/sam_transform.py template.yaml .aws-sam/transformed.json

Code and layer folders become placeholder S3 URIs, as `sam package` would make them; nothing is fetched.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# Where `sam package` would have uploaded each code folder: only the shape matters to the transform.
PACKAGED = {"CodeUri": "s3://packaged/{}.zip", "ContentUri": "s3://packaged/{}.zip"}


class _NoManagedPolicyNames:
    """SAM looks up AWS managed policies named in ``Policies`` (an AWS call); the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def transformed(template_text: str) -> dict[str, Any]:
    """The CloudFormation template SAM makes of ``template_text`` (parameters at their defaults)."""
    template = yaml_parse(template_text)
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for key, uri in PACKAGED.items():
            if isinstance(properties.get(key), str):
                properties[key] = uri.format(logical_id)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the transform fills in AWS::Region from it
    result: dict[str, Any] = transform(template, {}, _NoManagedPolicyNames())
    return result


def main(source: str, target: str) -> None:
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(transformed(Path(source).read_text()), indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:3])
