"""Fixtures of the API twins' tests: a second presenter."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.factories import Presenter, api_token, make_user


@pytest.fixture
def other(client: TestClient) -> Presenter:
    user = make_user(client, "other@example.org")
    return Presenter(client, user, api_token(client, user.email))
