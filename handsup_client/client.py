"""The JSON API over HTTP: `Handsup` (a facilitator's or organizer's API token) and `Participant` (a participant
token from joining). Every method is one route of docs/api.md; an answer that is not a success raises ApiError with
the problem's title and detail, as the server wrote them for a person."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from handsup_client.models import (
    Cohort,
    Deck,
    DeckSaved,
    DeckSummary,
    Institute,
    Joined,
    Live,
    MediaStored,
    NameChosen,
    Received,
    Session,
    Tally,
    TokenInfo,
)

Action = Literal[
    "goto",
    "next",
    "previous",
    "open",
    "close",
    "countdown",
    "reveal",
    "conceal",
    "reset",
    "moderate",
    "pace",
    "beside",
    "reactions",
    "filter",
    "end",
]
"""The presenter actions of `POST /api/v1/sessions/{id}/control`."""

Reaction = Literal["like", "heart", "question", "applause"]
FieldValue = str | int | list[str | int]
"""A form field's value in an answer or a control's fields: text, a whole number, or a list of them."""

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """A problem answer (application/problem+json): `status`, `title`, `detail`, and the whole `body`."""

    def __init__(self, status: int, title: str, detail: str, body: Mapping[str, Any]) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.body = dict(body)


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        body = response.json()
    except ValueError:
        body = {"title": response.reason_phrase, "detail": response.text[:500]}
    if not isinstance(body, dict):
        body = {"detail": str(body)}
    title = str(body.get("title", response.reason_phrase))
    raise ApiError(response.status_code, title, str(body.get("detail", title)), body)


def _one(model: type[M], response: httpx.Response) -> M:
    return model.model_validate(_checked(response).json())


def _many(model: type[M], response: httpx.Response) -> list[M]:
    return TypeAdapter(list[model]).validate_python(_checked(response).json())  # type: ignore[valid-type]


class Handsup:
    """A client of one Handsup server. `token` is an API token (the account page's "API tokens", or `handsup token
    create EMAIL`); the participant routes need none (`join` gives a Participant)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> Handsup:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # --- decks (docs/api.md, "Decks") ---------------------------------------------------------------------------

    def decks(self) -> list[DeckSummary]:
        """The decks you see: your own, shared with you, your institutes', templates."""
        return _many(DeckSummary, self.http.get("/api/v1/decks"))

    def deck(self, deck_id: int) -> Deck:
        return _one(Deck, self.http.get(f"/api/v1/decks/{deck_id}"))

    def create_deck(self, *, title: str | None = None, copy_of: int | None = None, source: str | None = None) -> Deck:
        """A new deck of yours: give one of a `title` (an empty draft), a deck to copy, or YAML text."""
        body = {name: value for name, value in (("title", title), ("copy_of", copy_of), ("source", source)) if value}
        return _one(Deck, self.http.post("/api/v1/decks", json=body))

    def save_deck(
        self, deck_id: int, version: int, *, document: Mapping[str, Any] | None = None, source: str | None = None
    ) -> DeckSaved:
        """Save a new version based on `version`: ApiError 409 when someone saved since (its body holds theirs)."""
        body: dict[str, Any] = {"version": version}
        body.update({"document": dict(document)} if document is not None else {"source": source})
        return _one(DeckSaved, self.http.put(f"/api/v1/decks/{deck_id}", json=body))

    def delete_deck(self, deck_id: int) -> None:
        _checked(self.http.delete(f"/api/v1/decks/{deck_id}"))

    def restore_deck(self, deck_id: int) -> Deck:
        return _one(Deck, self.http.post(f"/api/v1/decks/{deck_id}/restore"))

    def deck_yaml(self, deck_id: int) -> str:
        """The deck's YAML text, as stored."""
        return _checked(self.http.get(f"/api/v1/decks/{deck_id}/yaml")).text

    # --- images (docs/api.md, "Images") -------------------------------------------------------------------------

    def upload_media(self, image: Path | bytes, filename: str = "image") -> MediaStored:
        """Upload a PNG, JPEG, WebP or GIF; the answer's `media` is the name a deck writes (`{media: <name>}`)."""
        if isinstance(image, Path):
            filename, image = image.name, image.read_bytes()
        return _one(MediaStored, self.http.post("/api/v1/media", files={"file": (filename, image)}))

    # --- sessions (docs/api.md, "Sessions") ---------------------------------------------------------------------

    def start_session(
        self,
        *,
        deck_id: int | None = None,
        deck_slug: str | None = None,
        deck_yaml: str | None = None,
        title: str | None = None,
        cohort_id: int | None = None,
        nicknames: bool = False,
        teams: list[str] | None = None,
        site_teams: bool = False,
        streak: bool = False,
    ) -> Session:
        """Start a live session (in the lobby) from a stored deck or from deck YAML."""
        body: dict[str, Any] = {
            "nicknames": nicknames,
            "teams": teams or [],
            "site_teams": site_teams,
            "streak": streak,
        }
        given = {"deck_id": deck_id, "deck_slug": deck_slug, "deck_yaml": deck_yaml, "title": title}
        body.update({name: value for name, value in given.items() if value is not None})
        if cohort_id is not None:
            body["cohort_id"] = cohort_id
        return _one(Session, self.http.post("/api/v1/sessions", json=body))

    def session(self, session_id: int) -> Session:
        return _one(Session, self.http.get(f"/api/v1/sessions/{session_id}"))

    def control(self, session_id: int, action: Action, activity_id: int | None = None, **fields: FieldValue) -> Session:
        """One presenter action; the session after it. A refused one raises ApiError 409 "Not possible now"."""
        body = {"action": action, "activity_id": activity_id, "fields": fields}
        return _one(Session, self.http.post(f"/api/v1/sessions/{session_id}/control", json=body))

    def goto(self, session_id: int, activity_id: int | None) -> Session:
        """Show an activity (None: the lobby)."""
        return self.control(session_id, "goto", activity_id)

    def next(self, session_id: int) -> Session:
        return self.control(session_id, "next")

    def open(self, session_id: int, activity_id: int) -> Session:
        return self.control(session_id, "open", activity_id)

    def close_voting(self, session_id: int, activity_id: int) -> Session:
        return self.control(session_id, "close", activity_id)

    def reveal(self, session_id: int, activity_id: int) -> Session:
        return self.control(session_id, "reveal", activity_id)

    def reset(self, session_id: int, activity_id: int) -> Session:
        return self.control(session_id, "reset", activity_id)

    def moderate(self, session_id: int, activity_id: int, verb: str, **fields: FieldValue) -> Session:
        """A kind's moderation: e.g. `moderate(s, a, "hide", word="trust")` or `moderate(s, a, "approve",
        answer=key)` (each kind's fields: its `<Kind>Moderation` schema in /openapi.json, and docs/api.md)."""
        return self.control(session_id, "moderate", activity_id, verb=verb, **fields)

    def end(self, session_id: int) -> Session:
        return self.control(session_id, "end")

    def tally(self, session_id: int, activity_id: int) -> Tally:
        """An activity's live results, moderation applied."""
        return _one(Tally, self.http.get(f"/api/v1/sessions/{session_id}/activities/{activity_id}/tally"))

    def add_facilitator(self, session_id: int, email: str) -> Session:
        return _one(Session, self.http.post(f"/api/v1/sessions/{session_id}/facilitators", json={"email": email}))

    def remove_facilitator(self, session_id: int, user_id: int) -> None:
        _checked(self.http.delete(f"/api/v1/sessions/{session_id}/facilitators/{user_id}"))

    # --- exports and archives (docs/api.md; what is inside: docs/archives.md) -------------------------------------

    def session_archive(self, session_id: int) -> bytes:
        """The session's archive, a ZIP."""
        return _checked(self.http.get(f"/api/v1/sessions/{session_id}/archive.zip")).content

    def cohort_archive(self, cohort_id: int) -> bytes:
        return _checked(self.http.get(f"/api/v1/cohorts/{cohort_id}/archive.zip")).content

    def institute_archive(self, institute_id: int) -> bytes:
        return _checked(self.http.get(f"/api/v1/institutes/{institute_id}/archive.zip")).content

    def import_archive(self, archive: bytes) -> dict[str, Any]:
        """Import an archive (docs/archives.md, "Importing"): what was made of it."""
        response = self.http.post("/api/v1/archives", content=archive, headers={"Content-Type": "application/zip"})
        return dict(_checked(response).json())

    def activity_export(self, session_id: int, activity_id: int, extension: str = "csv") -> str:
        """An activity's responses as CSV (or, for resources, `md` and `html` lists)."""
        url = f"/api/v1/sessions/{session_id}/activities/{activity_id}/export.{extension}"
        return _checked(self.http.get(url)).text

    # --- institutes and cohorts (an organizer's token) ------------------------------------------------------------

    def institutes(self) -> list[Institute]:
        return _many(Institute, self.http.get("/api/v1/institutes"))

    def create_institute(self, title: str, description: str = "") -> Institute:
        body = {"title": title, "description": description}
        return _one(Institute, self.http.post("/api/v1/institutes", json=body))

    def institute(self, institute_id: int) -> Institute:
        return _one(Institute, self.http.get(f"/api/v1/institutes/{institute_id}"))

    def create_cohort(self, institute_id: int, name: str, **fields: Any) -> Cohort:
        """A new cohort: `site`, `starts_on`, `ends_on` (ISO dates), `facilitators`, `deck_ids`, `same_identity`,
        `time_zone` as docs/api.md says."""
        body = {"name": name, **fields}
        return _one(Cohort, self.http.post(f"/api/v1/institutes/{institute_id}/cohorts", json=body))

    def cohort(self, cohort_id: int) -> Cohort:
        return _one(Cohort, self.http.get(f"/api/v1/cohorts/{cohort_id}"))

    def comparisons(self, institute_id: int) -> list[dict[str, Any]]:
        """The activities the institute's cohorts ran, each with the cohorts that ran it."""
        return list(_checked(self.http.get(f"/api/v1/institutes/{institute_id}/compare")).json())

    def comparison(self, institute_id: int, key: str) -> dict[str, Any]:
        return dict(_checked(self.http.get(f"/api/v1/institutes/{institute_id}/compare/{key}")).json())

    def pool(self, institute_id: int, kind: str = "resources", type: str | None = None) -> dict[str, Any]:
        """A kind's institute-wide pool (`resources`: the resource library)."""
        params = {"type": type} if type else {}
        response = self.http.get(f"/api/v1/institutes/{institute_id}/pools/{kind}", params=params)
        return dict(_checked(response).json())

    # --- your API tokens --------------------------------------------------------------------------------------------

    def tokens(self) -> list[TokenInfo]:
        return _many(TokenInfo, self.http.get("/api/v1/tokens"))

    def revoke_token(self, token_id: int) -> None:
        _checked(self.http.delete(f"/api/v1/tokens/{token_id}"))

    # --- routes for every page action (issue 17, part 3) ------------------------------------------------------------
    # Retention, the editor's operations, co-facilitators' and accounts' pages get /api/v1 routes of their own: their
    # methods go here, one per route, typed with a model in models.py as the ones above are.

    # --- a browser's sign-in (for the presenter socket, which takes the signed-in cookie) ---------------------------

    def sign_in(self, email: str, password: str) -> str:
        """Sign in through `/login`'s password form, as a browser does: `GET /login` for the form's `csrf_token`,
        then `POST /login` with `csrf_token`, `email`, `password` (and `next`); 303 on success. Returns the signed
        session cookie (`handsup_session`), which this client then sends too, and the presenter socket takes."""
        page = _checked(self.http.get("/login"))
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if match is None:
            raise ApiError(page.status_code, "No sign-in form", "The /login page has no csrf_token field.", {})
        form = {"csrf_token": match.group(1), "email": email, "password": password, "next": "/present"}
        answer = self.http.post("/login", data=form, follow_redirects=False)
        if answer.status_code != 303:
            error = re.search(r'role="alert"[^>]*>\s*([^<]+)', answer.text)
            detail = error.group(1).strip() if error else answer.reason_phrase
            raise ApiError(answer.status_code, "Not signed in", detail, {})
        return str(self.http.cookies["handsup_session"])

    # --- taking part --------------------------------------------------------------------------------------------

    def join(self, code: str) -> Participant:
        """Join a live session by its code, as a new participant."""
        joined = _one(Joined, self.http.post("/api/v1/join", json={"code": code}))
        return Participant(self, joined)


class Participant:
    """One participant of a session: their token (also the `handsup_participant` cookie of the participant socket
    and pages) and the participant routes."""

    def __init__(self, handsup: Handsup, joined: Joined) -> None:
        self.handsup = handsup
        self.token = joined.participant_token
        self.participant_id = joined.participant_id
        self.session_id = joined.live.session_id
        self.joined = joined

    @property
    def _headers(self) -> dict[str, str]:
        return {"X-Participant-Token": self.token}

    def live(self) -> Live:
        """What this participant's screen shows now."""
        params = {"session_id": self.session_id}
        return _one(Live, self.handsup.http.get("/api/v1/live", params=params, headers=self._headers))

    def answer(self, activity_id: int, **fields: FieldValue) -> Received:
        """Answer an activity with its kind's fields (`choice="1"`, `word=["trust"]`...; a numbered field such as
        `card-0` goes through `answer_fields`). Stored when this returns."""
        return self.answer_fields(activity_id, fields)

    def answer_fields(self, activity_id: int, fields: Mapping[str, FieldValue]) -> Received:
        body = {"activity_id": activity_id, "answer": dict(fields)}
        return _one(Received, self.handsup.http.post("/api/v1/responses", json=body, headers=self._headers))

    def react(self, reaction: Reaction) -> None:
        url = f"/api/v1/sessions/{self.session_id}/reactions"
        _checked(self.handsup.http.post(url, json={"reaction": reaction}, headers=self._headers))

    def choose_name(self, nickname: str = "", team: str = "") -> NameChosen:
        url = f"/api/v1/sessions/{self.session_id}/name"
        body = {"nickname": nickname, "team": team}
        return _one(NameChosen, self.handsup.http.put(url, json=body, headers=self._headers))
