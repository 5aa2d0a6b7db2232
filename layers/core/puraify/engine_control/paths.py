"""Path parameters of Engine Control's routes, validated like body fields (422 with the field named).

Apart from the models because they are Powertools resolver parameters: the check, which serves its
route without the resolver, does not import the event handler for them.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

EngineIdPath = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,64}$")]
PlatformPath = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,64}$")]
FlagPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
WindowIdPath = Annotated[str, Path(pattern=r"^[a-z0-9]{1,32}$")]
ScheduleIdPath = Annotated[str, Path(pattern=r"^[a-z0-9]{1,32}$")]
