"""What a kind's tests use to prove the two promises every kind makes, built-in or plug-in alike.

Folding: DESIGN.md's claim that folding the response events in any order, with repeats, with events of older epochs
and with resets, gives the same snapshot as a full recompute from the database. "From the database" is literal: the
responses go through the real ResponseWriter into a migrated SQLite file, the rows of the current epoch are read
back and folded into a fresh tally, as a worker does when it opens a room. Every kind's tests call
check_folding_matches_recompute with a `database` from make_database.

Screening: the profanity filter as a kind's tests meet it, with results taken through the server's one path and
rendered by the kind's templates. Each kind that takes free text checks the same three things: a flagged entry is
held back from the room (projector results and picture), the presenter sees it marked, and the presenter's "show"
lets it through.

This module drives the server (its writer, database and template environment), so only tests import it; it needs
hypothesis, which the test requirements install.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import strategies as st
from jinja2 import Environment
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import registry
from activities.base import ActivityKind, KindConfig, KindSubmission, ResponseEvent, SubmissionInvalid, Tally
from server.backplane import MemoryBackplane, session_channel
from server.db import create_engine, session_factory, transaction, upgrade
from server.live.fragments import make_environment
from server.live.writer import ResponseWriter
from server.models import Activity, Participant, Response, Session, User
from server.sessions import moderated_results

# --- folding --------------------------------------------------------------------------------------------------------

PARTICIPANTS = 3
EPOCHS = 3
POSITIONS = itertools.count()
UNTIMED: st.SearchStrategy[float | None] = st.none()
"""The answers of a kind that measures no time: the server hands every one `elapsed=None`."""


@dataclass(frozen=True)
class Database:
    url: str
    session_id: int
    participant_ids: list[int]


@dataclass(frozen=True)
class Step:
    """One participant sends an answer while the activity is in `epoch`, `elapsed` seconds after it opened (what
    the server measured, for timed kinds); `settle` waits for its commit."""

    participant: int
    epoch: int
    form: dict[str, list[str]]
    settle: bool
    elapsed: float | None = None


def make_database(folder: Path) -> Database:
    """A migrated SQLite file with a session and PARTICIPANTS participants, for check_folding_matches_recompute."""
    url = f"sqlite+aiosqlite:///{folder / 'handsup.db'}"
    upgrade(url)
    return asyncio.run(_seed(url))


async def _seed(url: str) -> Database:
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as db:
            session_id, people = await seed_session(db, PARTICIPANTS, code="424242")
            return Database(url, session_id, people)
    finally:
        await engine.dispose()


async def seed_session(db: AsyncSession, people: int, code: str = "123456") -> tuple[int, list[int]]:
    """A presenter, a live session and `people` participants written straight to the database.

    For tests of the storage layer that run without an app; returns the session id and participant ids.
    """
    user = User(email="presenter@example.org", password_hash="-")
    db.add(user)
    await db.flush()
    assert user.id is not None
    session = Session(code=code, title="Seeded", presenter_id=user.id, projector_secret=code * 6)
    db.add(session)
    await db.flush()
    assert session.id is not None
    participants = [Participant(session_id=session.id, token_hash=f"{n:064x}") for n in range(people)]
    db.add_all(participants)
    await db.flush()
    return session.id, [p.id for p in participants if p.id is not None]


def steps(
    forms: st.SearchStrategy[dict[str, list[str]]], elapsed: st.SearchStrategy[float | None] = UNTIMED
) -> st.SearchStrategy[list[Step]]:
    step = st.builds(Step, st.integers(0, PARTICIPANTS - 1), st.integers(0, EPOCHS - 1), forms, st.booleans(), elapsed)
    return st.lists(step, max_size=20)


async def store(
    database: Database,
    kind: ActivityKind[Any, Any],
    config: KindConfig,
    plan: list[Step],
    epoch: int,
    builds_on_previous: bool = False,
) -> tuple[list[ResponseEvent], list[ResponseEvent]]:
    """Send every answer through the writer; returns the events it published and the rows of `epoch` it stored.

    With `builds_on_previous` (a kind whose form carries a change, like Q&A), each form is validated on the
    participant's last answer in the plan, and a change the kind refuses (asking the same question twice) is
    left out, as the server would refuse it."""
    engine = create_engine(database.url)
    maker = session_factory(engine)
    backplane = MemoryBackplane()
    writer = ResponseWriter(engine, backplane, interval_ms=1, batch_limit=100, queue_limit=1000)
    try:
        async with transaction(maker) as db:
            activity = Activity(
                session_id=database.session_id,
                position=next(POSITIONS),
                kind=kind.name,
                title="Property",
                config=config.model_dump(mode="json"),
                epoch=epoch,
            )
            db.add(activity)
            await db.flush()
            activity_id = activity.id
        assert activity_id is not None
        async with backplane.subscribe(session_channel(database.session_id)) as subscription:
            running = asyncio.create_task(writer.run())
            acknowledged: list[ResponseEvent] = []
            waiting: list[asyncio.Future[ResponseEvent]] = []
            previous: dict[int, KindSubmission] = {}
            for step in plan:
                if builds_on_previous:
                    try:
                        submission = kind.validate_submission(
                            config, step.form, previous.get(step.participant), elapsed=step.elapsed
                        )
                    except SubmissionInvalid:
                        continue
                    previous[step.participant] = submission
                else:
                    submission = kind.validate_submission(config, step.form, elapsed=step.elapsed)
                payload = submission.model_dump(mode="json")
                # The server folds the submission it validated, not its payload parsed back (Room.fold_now): the two
                # must be the same answer.
                assert kind.new_tally(config).parse_payload(payload) == submission
                waiting.append(
                    asyncio.ensure_future(
                        writer.submit(
                            database.session_id,
                            activity_id,
                            database.participant_ids[step.participant],
                            step.epoch,
                            payload,
                        )
                    )
                )
                if step.settle:
                    acknowledged += await asyncio.gather(*waiting)
                    waiting = []
            acknowledged += await asyncio.gather(*waiting)
            published: list[ResponseEvent] = []
            while len(published) < len(acknowledged):
                message = await subscription.get()
                published += [ResponseEvent.from_json(item) for item in message["items"]]
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        assert sorted(published, key=repr) == sorted(acknowledged, key=repr)
        async with maker() as db:
            rows = (
                await db.exec(select(Response).where(Response.activity_id == activity_id, Response.epoch == epoch))
            ).all()
        stored = [ResponseEvent(r.activity_id, r.participant_id, r.epoch, r.version, r.payload) for r in rows]
        return published, stored
    finally:
        await engine.dispose()


def check_folding_matches_recompute(
    database: Database,
    kind: ActivityKind[Any, Any],
    config: KindConfig,
    forms: st.SearchStrategy[dict[str, list[str]]],
    data: st.DataObject,
    builds_on_previous: bool = False,
    elapsed: st.SearchStrategy[float | None] = UNTIMED,
) -> None:
    """Folding in any order equals a recompute; `elapsed`: the times the server measures for the answers, for a timed
    kind (see ActivityKind.validate_submission)."""
    plan = data.draw(steps(forms, elapsed), label="answers sent")
    # Mostly the last answers' epoch; sometimes a reset came after them all (nothing of the DB counts).
    epoch = max((step.epoch for step in plan), default=0) + data.draw(st.sampled_from([0, 0, 0, 1]), label="reset")
    published, stored = asyncio.run(store(database, kind, config, plan, epoch, builds_on_previous))

    repeats = data.draw(st.lists(st.sampled_from(published), max_size=6), label="repeats") if published else []
    resets: list[ResponseEvent | int] = list(range(1, epoch + 1))
    order = data.draw(st.permutations([*published, *repeats, *resets]), label="arrival order")
    live = kind.new_tally(config)
    for item in order:
        if isinstance(item, int):
            live.reset(item)
        else:
            live.fold(item)

    recomputed = kind.new_tally(config)
    recomputed.reset(epoch)
    for event in stored:
        recomputed.fold(event)

    assert live.snapshot({}) == recomputed.snapshot({})
    assert live.respondents == recomputed.respondents == len(stored)
    for participant in database.participant_ids:
        assert live.answer_of(participant) == recomputed.answer_of(participant)


# --- screening ------------------------------------------------------------------------------------------------------


@cache
def environment() -> Environment:
    """The server's template environment with every registered kind's templates (made once, on first render)."""
    return make_environment(registry)


MARK = "Held back by the profanity filter"


def results(tally: Tally[Any, Any], moderation: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the room's views are rendered from: the snapshot under the moderation and the filter."""
    return moderated_results(tally, moderation or {})


def render(
    kind: str,
    audience: str,
    config: KindConfig,
    tally: Tally[Any, Any],
    moderation: dict[str, Any] | None = None,
    **state: Any,
) -> str:
    """A kind's presenter or projector results, as the hub renders them for one activity (id 9 of session 3), open
    and not revealed unless `state` says otherwise (`voting_open=False, revealed=True`: as a cohort comparison)."""
    activity = SimpleNamespace(
        **{"id": 9, "session_id": 3, "voting_open": True, "revealed": False, "moderation": moderation or {}, **state}
    )
    context = {
        "activity": activity,
        "config": config,
        "results": results(tally, moderation),
        "results_visible": True,
        "audience": audience,
        "asset_base": "/projector/secret/activities/9",
        "control_url": "/present/3/control",
    }
    return environment().get_template(f"{kind}/{audience}.html").render(**context)


def show_button(html: str, field: str, key: str) -> bool:
    """Whether the presenter's HTML has a Show control for this item (the existing moderation toggle): one form
    posting the verb "show" with the item's key, under a "Show" button."""
    return any(
        'name="verb" value="show"' in form and f'name="{field}" value="{key}"' in form and ">Show</button>" in form
        for form in re.findall(r"<form.*?</form>", html, flags=re.DOTALL)
    )
