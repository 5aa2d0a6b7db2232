import pytest
from planning_harness import Harness, make_harness


@pytest.fixture
def harness() -> Harness:
    return make_harness()
