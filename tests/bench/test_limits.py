"""The saturation and many-rooms scenarios (bench/saturation.py, bench/rooms.py) end to end on the smoke profile:
their figures exist and add up. No timing is judged here: that is the benchmark's job."""

from __future__ import annotations

import json
from pathlib import Path

from bench.rooms import PROFILES as ROOMS
from bench.rooms import goals as room_goals
from bench.run import main
from bench.saturation import FELL_BEHIND, FLAT, Steps, goals, stop_reason
from bench.saturation import PROFILES as SATURATION


def test_the_saturation_scenario_steps_the_rate_up_on_both_targets_and_loses_no_vote(tmp_path: Path) -> None:
    out = tmp_path / "saturation.json"
    assert main(["--profile", "smoke", "--scenario", "saturation", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert "votes_acked" not in result and "quiz" not in result and "rooms" not in result
    saturation = result["saturation"]
    profile = SATURATION["smoke"]
    phones = profile.base.participants
    for figures in (saturation, saturation["baseline"]):
        assert figures["participants_connected"] == phones
        steps = figures["steps"]
        assert 1 <= len(steps) == figures["steps_run"] <= profile.steps.max_steps + profile.steps.refine
        rates = [step["offered_rate_votes_per_s"] for step in steps if not step["refining"]]
        assert rates == [profile.steps.start_rate * profile.steps.factor**n for n in range(len(rates))]
        assert all(min(rates) < step["offered_rate_votes_per_s"] < max(rates) for step in steps if step["refining"])
        for step in steps:
            assert step["votes_offered"] == round(step["offered_rate_votes_per_s"] * profile.steps.step_s)
            assert step["votes_acked"] + step["votes_refused_or_lost"] == step["votes_offered"] >= step["votes_sent"]
            assert step["kept_up"] == (step["votes_refused_or_lost"] == 0 and step["ack_p99_ms"] <= 1000)
        assert figures["votes_acked"] == sum(step["votes_acked"] for step in steps)
        assert figures["reached_limit"] == (figures["stopped_because"] in (FELL_BEHIND, FLAT))
        kept = [step["acked_rate_votes_per_s"] for step in steps if step["kept_up"]]
        assert figures["sustained_votes_per_s"] == (max(kept) if kept else None)
        assert figures["participants_with_acked_vote"] == phones
    assert saturation["acked_answers_lost"] == 0 and saturation["acked_answers_persisted"] == phones
    assert saturation["votes_persisted"] == phones  # a phone's later vote replaces its earlier one
    assert saturation["server_log_problems"] == 0, saturation["server_log_samples"]
    mine, bare = saturation["sustained_votes_per_s"], saturation["baseline"]["sustained_votes_per_s"]
    assert saturation["sustained_ratio_to_baseline"] == (round(mine / bare, 3) if mine and bare else None)
    assert {v["figure"] for v in saturation["targets"]} == {goal.figure for goal in goals(profile)}


def test_the_saturation_ramp_stops_where_the_rules_say() -> None:
    steps = Steps(start_rate=100.0, factor=2.0, step_s=1.0, max_steps=5)
    step = {"kept_up": True, "client_bound": False, "acked_rate_votes_per_s": 200.0}
    assert stop_reason(step, None, steps) is None
    assert stop_reason(step, 150.0, steps) is None  # grew by a third
    assert stop_reason(step, 190.0, steps) == "the acknowledged rate stopped growing"
    assert stop_reason({**step, "kept_up": False}, None, steps) == "ack p99 over the bound or votes not acknowledged"
    assert (
        stop_reason({**step, "client_bound": True}, None, steps) == "the sender could not offer the rate (client-bound)"
    )


def test_the_rooms_scenario_votes_in_every_room_and_compares_with_one_room(tmp_path: Path) -> None:
    out = tmp_path / "rooms.json"
    assert main(["--profile", "smoke", "--scenario", "rooms", "--out", str(out)]) == 0
    rooms = json.loads(out.read_text())["rooms"]
    profile = ROOMS["smoke"]
    single = rooms["one_room"]
    assert (rooms["rooms"], rooms["phones_per_room"], single["rooms"]) == (profile.rooms, profile.phones, 1)
    for figures in (rooms, single):
        assert figures["participants"] == figures["participants_connected"] == profile.total
        assert figures["votes_offered"] == figures["votes_sent"] == figures["votes_acked"] == profile.total
        assert figures["votes_refused_or_lost"] == 0 and figures["presenter_untraced_votes"] == 0
        assert figures["acked_answers_persisted"] == profile.total
        assert figures["acked_answers_lost"] == 0
        assert figures["presenter_p99_ms"] is not None and figures["server_cpu_s"] >= 0
        assert figures["server_log_problems"] == 0, figures["server_log_samples"]
        # every vote reached its presenter in some push, and a push carries at least one vote
        assert 1 <= figures["presenter_pushes"] <= profile.total
        assert figures["presenter_pushes_per_vote"] == round(figures["presenter_pushes"] / profile.total, 3)
    assert rooms["votes_lost"] == 0
    assert rooms["presenter_p99_worst_room_ms"] >= rooms["presenter_p99_ms"]
    assert {v["figure"] for v in rooms["targets"]} == {goal.figure for goal in room_goals(profile)}
