"""Backplane messages: the wire format every worker (and every backend) reads, round-tripped and kept compatible."""

from __future__ import annotations

import json
from typing import Any

import pytest

from activities.base import ResponseEvent
from server.messages import Joined, Message, Reaction, Responses, StateChanged, from_json

EVENT = ResponseEvent(activity_id=7, participant_id=3, epoch=1, version=1_700_000_000_000_000, payload={"choices": [2]})


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (Responses((EVENT,)), {"type": "responses", "items": [EVENT.to_json()]}),
        (Joined(3, "ab12"), {"type": "joined", "participant": 3, "token_hash": "ab12"}),
        (StateChanged(), {"type": "state"}),
        (Reaction("heart"), {"type": "reaction", "name": "heart"}),
    ],
)
def test_each_message_keeps_its_wire_format_and_survives_json(message: Message, wire: dict[str, Any]) -> None:
    assert message.to_json() == wire
    assert from_json(json.loads(json.dumps(message.to_json()))) == message


def test_a_message_of_a_type_this_worker_does_not_know_reads_as_none() -> None:
    assert from_json({"type": "leaderboard", "scores": []}) is None
    assert from_json({"no": "type"}) is None


@pytest.mark.parametrize(
    "wire", [{"type": "joined", "participant": 0}, {"type": "responses"}, {"type": "joined", "participant": "x"}]
)
def test_a_known_message_with_broken_fields_raises(wire: dict[str, Any]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        from_json(wire)
