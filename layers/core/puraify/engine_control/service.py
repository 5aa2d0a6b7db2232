"""Engine Control's operations. Each takes the authenticated caller and returns a response model."""

from __future__ import annotations

from puraify.engine_control.capabilities import Capabilities
from puraify.engine_control.catalog import CatalogAdmin
from puraify.engine_control.checks import Checks
from puraify.engine_control.engines import Engines
from puraify.engine_control.flag_schedule import FlagSchedule
from puraify.engine_control.grant_changes import GrantChanges
from puraify.engine_control.maintenance import Maintenance
from puraify.engine_control.simulate import Simulation


class EngineControl(GrantChanges, Simulation, Engines, Checks, CatalogAdmin, Capabilities, Maintenance, FlagSchedule):
    """Engine identities, checks and the catalog (one module per idea; the state is in ``base``)."""
