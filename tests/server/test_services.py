"""The services bag's worker process: CPU-bound work (word-cloud pictures, uploaded images) runs there, and a worker
that dies doing it costs that one call, never the calls after it."""

from __future__ import annotations

import os

from starlette.testclient import TestClient

from activities.base import OffloadFailed
from server.services import Services
from tests.factories import run, services_of


def _die() -> None:
    os._exit(9)  # as the kernel's out-of-memory killer would end it


def _double(number: int) -> int:
    return number * 2


async def _offload_after_a_death(services: Services) -> tuple[str, int]:
    offload = services.offload
    try:
        await offload(_die)
    except OffloadFailed as failed:
        lost = str(failed)
    else:
        lost = ""
    return lost, await offload(_double, 21)


def test_a_worker_that_dies_fails_its_call_and_the_next_call_gets_a_new_worker(client: TestClient) -> None:
    lost, answer = run(client, _offload_after_a_death, services_of(client))
    assert lost == "the worker process died before it finished"
    assert answer == 42
