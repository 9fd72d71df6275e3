"""Institutes and their cohorts: what organizers set up, and the sessions each cohort runs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.i18n import _
from server.decks import free_slug, slugify
from server.decks.store import rights_of
from server.models import (
    Activity,
    AuditEntry,
    Cohort,
    CohortDeck,
    Deck,
    Institute,
    Participant,
    Response,
    Role,
    Session,
    SessionFacilitator,
    SessionState,
    User,
    utcnow,
)
from server.sessions import ControlRefused, NotFound, load_snapshot, recount, stored_responses
from server.times import DEFAULT_ZONE, UnknownZone, check_zone
from server.web.problems import unstorable

log = logging.getLogger(__name__)


class SetupInvalid(ValueError):
    """An institute or cohort an organizer must correct; the message is shown as it is."""


@dataclass(frozen=True)
class CohortForm:
    """A cohort as an organizer describes it (the page form and the JSON API share it)."""

    name: str
    site: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    facilitators: list[str] = field(default_factory=list)
    same_identity: bool = True
    deck_ids: list[int] = field(default_factory=list)
    time_zone: str = DEFAULT_ZONE

    def checked(self) -> CohortForm:
        name, site = " ".join(self.name.split()), " ".join(self.site.split())
        if not name:
            raise SetupInvalid(_("Give the cohort a name, for example “Phoenix, April”."))
        if len(name) > 200 or len(site) > 200:
            raise SetupInvalid(_("Keep the name and the site under 200 characters."))
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise SetupInvalid(_("The last day comes before the first."))
        people = [" ".join(person.split()) for person in self.facilitators]
        people = [person[:200] for person in people if person]
        if len(people) > 20:
            raise SetupInvalid(_("List at most 20 facilitators."))
        _storable(name, site, *people)
        decks = list(dict.fromkeys(self.deck_ids))
        try:
            time_zone = check_zone(self.time_zone)
        except UnknownZone as error:
            raise SetupInvalid(str(error)) from None
        return CohortForm(name, site, self.starts_on, self.ends_on, people, self.same_identity, decks, time_zone)


def _storable(*texts: str) -> None:
    """Refuse text that cannot be stored or shown, whichever door it came in by (page form, API, import)."""
    for text in texts:
        problem = unstorable(text)
        if problem:
            raise SetupInvalid(problem[0].upper() + problem[1:] + ".")


@dataclass(frozen=True)
class CohortView:
    """A cohort with its decks (in order) and its sessions (newest first)."""

    cohort: Cohort
    decks: list[Deck]
    sessions: list[Session]


@dataclass(frozen=True)
class InstituteView:
    institute: Institute
    cohorts: list[CohortView]


async def institutes(maker: async_sessionmaker[AsyncSession], user: User) -> Sequence[Institute]:
    """The institutes a user may organize: the ones they created; an admin, all of them."""
    query = select(Institute).order_by(col(Institute.created_at).desc())
    if user.role != Role.admin:
        query = query.where(Institute.created_by == user.id)
    async with maker() as db:
        return (await db.exec(query)).all()


async def create_institute(
    maker: async_sessionmaker[AsyncSession], title: str, description: str, user_id: int | None
) -> Institute:
    """A new institute; its slug (for file names) is made from the title, with a number if taken."""
    title, description = " ".join(title.split()), description.strip()
    if not title:
        raise SetupInvalid(_("Give the institute a title, for example “2017 Spring Institute”."))
    if len(title) > 200 or len(description) > 2000:
        raise SetupInvalid(_("Keep the title under 200 characters and the description under 2,000."))
    _storable(title, description)
    base = slugify(title)
    for attempt in range(1, 100):
        try:
            async with maker() as db, db.begin():
                institute = Institute(
                    slug=base if attempt == 1 else f"{base[:95]}-{attempt}",
                    title=title,
                    description=description,
                    created_by=user_id,
                )
                db.add(institute)
            return institute
        except IntegrityError:
            continue
    raise SetupInvalid(_("There are too many institutes with this title; choose another."))


async def institute_view(maker: async_sessionmaker[AsyncSession], institute_id: int) -> InstituteView:
    async with maker() as db:
        institute = await db.get(Institute, institute_id)
        if institute is None:
            raise NotFound(f"institute {institute_id}")
        cohorts = (
            await db.exec(
                select(Cohort)
                .where(Cohort.institute_id == institute_id)
                .order_by(col(Cohort.starts_on), col(Cohort.name))
            )
        ).all()
        views = [await _cohort_view(db, cohort) for cohort in cohorts]
    return InstituteView(institute, views)


async def cohort_zones(maker: async_sessionmaker[AsyncSession], cohort_ids: Sequence[int | None]) -> dict[int, str]:
    """The time zone of each of these cohorts (None, a session without a cohort, is left out)."""
    wanted = {cohort_id for cohort_id in cohort_ids if cohort_id is not None}
    if not wanted:
        return {}
    async with maker() as db:
        rows = (await db.exec(select(Cohort.id, Cohort.time_zone).where(col(Cohort.id).in_(wanted)))).all()
    return {cohort_id: time_zone for cohort_id, time_zone in rows if cohort_id is not None}


async def session_zone(maker: async_sessionmaker[AsyncSession], cohort_id: int | None, default: str) -> str:
    """The time zone a session's times are shown in: its cohort's, or `default` (the server's) without one."""
    return (await cohort_zones(maker, [cohort_id])).get(cohort_id or 0, default)


async def cohort_view(maker: async_sessionmaker[AsyncSession], cohort_id: int) -> tuple[Institute, CohortView]:
    async with maker() as db:
        cohort = await db.get(Cohort, cohort_id)
        if cohort is None:
            raise NotFound(f"cohort {cohort_id}")
        institute = await db.get(Institute, cohort.institute_id)
        assert institute is not None
        return institute, await _cohort_view(db, cohort)


async def _cohort_view(db: AsyncSession, cohort: Cohort) -> CohortView:
    decks = (
        await db.exec(
            select(Deck)
            .join(CohortDeck, col(CohortDeck.deck_id) == col(Deck.id))
            .where(CohortDeck.cohort_id == cohort.id)
            .order_by(col(CohortDeck.position))
        )
    ).all()
    sessions = (
        await db.exec(select(Session).where(Session.cohort_id == cohort.id).order_by(col(Session.created_at).desc()))
    ).all()
    return CohortView(cohort, list(decks), list(sessions))


async def save_cohort(
    maker: async_sessionmaker[AsyncSession],
    institute_id: int,
    form: CohortForm,
    cohort_id: int | None = None,
    *,
    user: User | None = None,
) -> Cohort:
    """Create a cohort of the institute (cohort_id None) or change one; its decks are replaced by the form's. With
    `user`, a deck the cohort does not have yet must be one they may view: linking a deck to a cohort lets the
    institute's organizers edit it (server/decks/store.py), so someone else's private deck is "no deck" here."""
    form = form.checked()
    async with maker() as db, db.begin():
        if await db.get(Institute, institute_id) is None:
            raise NotFound(f"institute {institute_id}")
        asked = (await db.exec(select(Deck).where(col(Deck.id).in_(form.deck_ids)))).all()
        linked: set[int] = set()
        if cohort_id is not None:
            linked = set((await db.exec(select(CohortDeck.deck_id).where(CohortDeck.cohort_id == cohort_id))).all())
        known = {
            deck.id
            for deck in asked
            if user is None or deck.id in linked or (deck.deleted_at is None and (await rights_of(db, user, deck)).view)
        }
        missing = [deck for deck in form.deck_ids if deck not in known]
        if missing:
            raise SetupInvalid(_("There is no deck {deck}.").format(deck=missing[0]))
        taken = select(Cohort.slug).where(Cohort.institute_id == institute_id)
        if cohort_id is None:
            cohort = Cohort(institute_id=institute_id, slug="", name=form.name)
        else:
            found = await db.get(Cohort, cohort_id)
            if found is None or found.institute_id != institute_id:
                raise NotFound(f"cohort {cohort_id}")
            cohort = found
            taken = taken.where(Cohort.id != cohort_id)
        slugs = set((await db.exec(taken)).all())
        if form.name.casefold() in {
            name.casefold()
            for name in (
                await db.exec(select(Cohort.name).where(Cohort.institute_id == institute_id, Cohort.id != cohort_id))
            ).all()
        }:
            raise SetupInvalid(_("This institute has a cohort named “{name}” already.").format(name=form.name))
        cohort.slug = free_slug(slugify(form.name), slugs)
        cohort.name, cohort.site = form.name, form.site
        cohort.starts_on, cohort.ends_on = form.starts_on, form.ends_on
        cohort.facilitators, cohort.same_identity = form.facilitators, form.same_identity
        cohort.time_zone = form.time_zone
        db.add(cohort)
        await db.flush()
        await db.exec(delete(CohortDeck).where(col(CohortDeck.cohort_id) == cohort.id))
        assert cohort.id is not None
        for position, deck_id in enumerate(form.deck_ids):
            db.add(CohortDeck(cohort_id=cohort.id, deck_id=deck_id, position=position))
    return cohort


# --- retention --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deleted:
    """What a retention action removed, as logged in the audit trail."""

    sessions: int
    participants: int
    responses: int


@dataclass(frozen=True)
class Stores:
    """What deleting a cohort's data reaches: the database, the kinds (to keep results), and the live rooms (told to
    forget a session, so no worker holds what was deleted). The caller passes them: this module sits below the hub."""

    db: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    registry: Registry
    forget: Callable[[int], Awaitable[None]]


async def prune_cohort(stores: Stores, cohort_id: int, user: User) -> Deleted:
    """Delete the participant-level data of every session of a cohort (who joined, who answered what), keeping
    each activity's results as they stood (without names) in `Activity.aggregate`. Refused while one is live."""
    institute, view = await cohort_view(stores.db, cohort_id)
    _refuse_live(view, _("End the live session “{title}” before deleting its participants' data."))
    pending = [session for session in view.sessions if session.pruned_at is None]
    aggregates: dict[int, dict[str, Any]] = {}
    for session in pending:
        assert session.id is not None
        snapshot = await load_snapshot(stores.db, stores.registry, session.id)
        stored = await stored_responses(stores.engine, [a.id for a in snapshot.activities if a.id is not None])
        for activity in snapshot.activities:
            assert activity.id is not None
            results, respondents, _counted = recount(stores.registry, snapshot, activity, stored)
            kind = stores.registry[activity.kind]
            aggregates[activity.id] = {"snapshot": kind.without_people(results), "respondents": respondents}
    ids = [session.id for session in pending if session.id is not None]
    async with stores.db() as db, db.begin():
        counts = await _delete_people(db, ids)
        for activity_id, aggregate in aggregates.items():
            await db.exec(update(Activity).where(col(Activity.id) == activity_id).values(aggregate=aggregate))
        await db.exec(update(Session).where(col(Session.id).in_(ids)).values(pruned_at=utcnow()))
        deleted = Deleted(len(ids), *counts)
        _audit(db, user, "cohort.prune", institute, view.cohort, deleted)
    for session_id in ids:
        await stores.forget(session_id)
    return deleted


async def delete_cohort(stores: Stores, cohort_id: int, user: User) -> Deleted:
    """Delete a cohort with its sessions and everything in them. Refused while one of them is live."""
    institute, view = await cohort_view(stores.db, cohort_id)
    _refuse_live(view, _("End the live session “{title}” before deleting it."))
    ids = [session.id for session in view.sessions if session.id is not None]
    async with stores.db() as db, db.begin():
        counts = await _delete_people(db, ids)
        await db.exec(delete(Activity).where(col(Activity.session_id).in_(ids)))
        await db.exec(delete(SessionFacilitator).where(col(SessionFacilitator.session_id).in_(ids)))
        await db.exec(delete(Session).where(col(Session.id).in_(ids)))
        await db.exec(delete(CohortDeck).where(col(CohortDeck.cohort_id) == cohort_id))
        await db.exec(delete(Cohort).where(col(Cohort.id) == cohort_id))
        deleted = Deleted(len(ids), *counts)
        _audit(db, user, "cohort.delete", institute, view.cohort, deleted)
    for session_id in ids:
        await stores.forget(session_id)
    return deleted


def _refuse_live(view: CohortView, refusal: str) -> None:
    """Refuse with `refusal` (its `{title}`: the live session's) while one of the cohort's sessions is live."""
    live = [session.title for session in view.sessions if session.state == SessionState.live]
    if live:
        raise ControlRefused(refusal.format(title=live[0]))


async def _delete_people(db: AsyncSession, session_ids: list[int]) -> tuple[int, int]:
    """Delete the responses and participants of these sessions; returns how many of each."""
    participants = select(Participant.id).where(col(Participant.session_id).in_(session_ids))
    responses = await db.exec(delete(Response).where(col(Response.participant_id).in_(participants)))
    people = await db.exec(delete(Participant).where(col(Participant.session_id).in_(session_ids)))
    return people.rowcount, responses.rowcount


def _audit(db: AsyncSession, user: User, action: str, institute: Institute, cohort: Cohort, deleted: Deleted) -> None:
    subject = f"cohort {cohort.id} “{cohort.name}” of “{institute.title}”"
    detail = {
        "institute": institute.id,
        "cohort": cohort.id,
        "sessions": deleted.sessions,
        "participants": deleted.participants,
        "responses": deleted.responses,
    }
    db.add(AuditEntry(user_id=user.id, action=action, subject=subject, detail=detail))
    log.warning("%s by %s: %s (%s)", action, user.email, subject, detail)
