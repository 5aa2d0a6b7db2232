"""The Environment Manager's operations. Each takes the authenticated caller and returns a response model.

Every change of an environment is one conditional write of its head on the revision it read: of racing
changes exactly one wins and the others get 409 with the current revision. The head carries the change
that produced it (``last_change``), so its history entry can always be derived from it: after each
commit the entries of the previous and the new revision are written (idempotently, keyed by revision),
which also repairs an entry a crashed writer left unwritten, and history reads add the head's own
entry when it is not stored yet. No history entry is lost and no multi-item transaction is needed.
"""

from __future__ import annotations

from puraify.environments.approvals import Approvals
from puraify.environments.base import EnvironmentsBase, fingerprints, history_of
from puraify.environments.compare import Comparison
from puraify.environments.configuration import Configuration
from puraify.environments.ports import ChangeStore, EnvironmentStore, Gate, SecretStore
from puraify.environments.previews import Previews
from puraify.environments.promotion import Promotion
from puraify.environments.publish import Publishing
from puraify.environments.queries import Queries
from puraify.environments.reads import Reads
from puraify.environments.rollback import Rollback
from puraify.environments.watch import Watching

__all__ = ["ChangeStore", "Environments", "EnvironmentStore", "Gate", "SecretStore", "fingerprints", "history_of"]


class Environments(
    Publishing,
    Watching,
    Approvals,
    Promotion,
    Rollback,
    Configuration,
    Comparison,
    Reads,
    Queries,
    Previews,
    EnvironmentsBase,
):
    """Projects' environments, versions, promotion, approvals, rollback, configuration (one module per verb)."""
