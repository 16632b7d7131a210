"""The API fuzzed from its own OpenAPI document (Schemathesis): no answer is a 5xx, and every
answer is documented and matches its schema, for three roles' tokens.

Bounded and deterministic: a few derandomized examples per operation and role, so it runs
in seconds within `make test`, on SQLite and on PostgreSQL.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nodetrack.wsgi import application
from tests.test_api_support import card_make, item_make, recommitment_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
pytest_plugins = ["tests.test_api_support"]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

ROLES = ("staff", "leader", "supervisor")
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture
def connection_kept():
    """Requests go through the real WSGI handler, whose signals close the database connection
    at each request's start and end; the test's transaction must outlive them (Django's
    test client disconnects the same handler)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(world, connection_kept):
    """The API tests' world with something behind every id: cards, an item, a recommitment."""
    card_make(world.node, "yellow")
    recommitment_make(world.node, world.users["staff"])
    item_make(card_make(world.other_node, "red"))
    return world


@schema.parametrize()
@settings(
    max_examples=4,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_5xx_and_every_answer_matches_the_schema(case, fuzz_world):
    for role in ROLES:
        response = case.call(headers={"Authorization": f"Bearer {fuzz_world.token(role)}"})
        case.validate_response(response, checks=CHECKS)
