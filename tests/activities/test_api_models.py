"""Every kind documents itself in the JSON API: its answer's fields, its moderation and its tally's shape are typed
models (activities/base.py KindAnswer, KindModeration, KindResults). Their examples are answers the kind takes, and
every snapshot a kind's tally gives (empty, answered, moderated, kept without people) is of its results model's
shape, key for key: the description cannot drift from the tally."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest

from activities import registry
from activities.base import ActivityKind, KindResults, ResponseEvent, SubmissionInvalid
from server.decks.parse import parse_deck

ROOT = Path(__file__).resolve().parents[2]
EVERY_KIND = parse_deck((ROOT / "examples/scripts/every-kind.yaml").read_text(), registry)
EXAMPLE_DECK = parse_deck((ROOT / "examples/decks/distributed-leadership.yaml").read_text(), registry)
ANSWERING = [kind for kind in registry.all() if kind.takes_answers]


def examples(model: type[Any] | None) -> list[dict[str, Any]]:
    schema = {} if model is None else model.model_json_schema()
    return list(schema.get("examples", []))


def configs(kind: ActivityKind[Any, Any], deck: Any = EVERY_KIND) -> list[Any]:
    return [kind.parse_config(activity.config) for activity in deck.activities if activity.kind == kind.name]


def form(answer: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [str(v) for v in value] if isinstance(value, list) else [str(value)] for name, value in answer.items()
    }


def accepted(kind: ActivityKind[Any, Any], config: Any, answer: dict[str, Any]) -> Any | None:
    try:
        return kind.validate_submission(config, form(answer), None, elapsed=3.0)
    except SubmissionInvalid:
        return None


def test_the_every_kind_deck_has_one_activity_of_every_kind() -> None:
    assert {activity.kind for activity in EVERY_KIND.activities} == set(registry.names())


@pytest.mark.parametrize("kind", registry.all(), ids=lambda kind: kind.name)
def test_every_kind_declares_its_api_models(kind: ActivityKind[Any, Any]) -> None:
    assert kind.results_model is not None and issubclass(kind.results_model, KindResults)
    if kind.takes_answers:
        assert kind.answer_model is not None
        assert examples(kind.answer_model), "an answer model gives at least one example"
    else:
        assert kind.answer_model is None


@pytest.mark.parametrize("kind", registry.all(), ids=lambda kind: kind.name)
def test_a_moderation_model_names_exactly_the_kinds_moderation_actions(kind: ActivityKind[Any, Any]) -> None:
    if not kind.moderation_actions:
        assert kind.moderation_model is None
        return
    assert kind.moderation_model is not None
    verbs = set(typing.get_args(kind.moderation_model.model_fields["verb"].annotation))
    assert verbs == set(kind.moderation_actions)
    for example in examples(kind.moderation_model):
        kind.moderation_model.model_validate(example)


@pytest.mark.parametrize("kind", ANSWERING, ids=lambda kind: kind.name)
def test_every_example_answer_is_one_the_kind_takes(kind: ActivityKind[Any, Any]) -> None:
    for example in examples(kind.answer_model):
        assert kind.answer_model is not None
        kind.answer_model.model_validate(example)
        # Each example fits one activity of the every-kind deck (a quiz's pick fits its options, a typed one its own).
        assert any(accepted(kind, config, example) for config in configs(kind)), example


def tallies(kind: ActivityKind[Any, Any]) -> list[tuple[Any, Any]]:
    """(tally, moderation) of each of the kind's activities in both decks: empty, and with every example answered
    by a participant of its own."""
    out: list[tuple[Any, Any]] = []
    for config in configs(kind) + configs(kind, EXAMPLE_DECK):
        tally = kind.new_tally(config)
        out.append((kind.new_tally(config), {}))
        for participant, example in enumerate(examples(kind.answer_model), start=1):
            submission = accepted(kind, config, example)
            if submission is not None:
                payload = submission.model_dump(mode="json")
                tally.fold(ResponseEvent(1, participant, 0, participant, payload))
        out.append((tally, {}))
        listed = [
            item for name in ("cards", "questions", "resources", "words") for item in tally.snapshot({}).get(name, [])
        ]
        keys = [item["key"] for item in listed if "key" in item]
        every = {"hidden": keys[:1], "approved": keys, "highlighted": keys[-1:], "answered": keys[:1], "filtered": keys}
        out.append((tally, every))
    return out


@pytest.mark.parametrize("kind", registry.all(), ids=lambda kind: kind.name)
def test_every_snapshot_of_a_kind_is_of_its_results_models_shape(kind: ActivityKind[Any, Any]) -> None:
    assert kind.results_model is not None
    seen = tallies(kind)
    assert seen
    for tally, moderation in seen:
        snapshot = tally.snapshot(moderation)
        kind.results_model.model_validate(snapshot)
        kind.results_model.model_validate(kind.without_people(snapshot))
    if kind.takes_answers:
        assert any(tally.respondents for tally, _ in seen), "some example answer was counted"


@pytest.mark.parametrize("kind", ANSWERING, ids=lambda kind: kind.name)
def test_a_results_model_refuses_a_key_the_tally_does_not_give(kind: ActivityKind[Any, Any]) -> None:
    assert kind.results_model is not None
    tally = kind.new_tally(configs(kind)[0])
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        kind.results_model.model_validate({**tally.snapshot({}), "surprise": 1})
