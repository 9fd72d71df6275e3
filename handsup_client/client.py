"""The JSON API over HTTP: `Handsup` (a facilitator's or organizer's API token) and `Participant` (a participant
token from joining). Every method is one route of docs/api.md; an answer that is not a success raises ApiError with
the problem's title and detail, as the server wrote them for a person."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from handsup_client.models import (
    Account,
    Cohort,
    CohortSessionStarted,
    Deck,
    DeckSaved,
    DeckShare,
    DeckSummary,
    Delivery,
    Institute,
    Joined,
    Live,
    MediaStored,
    Moderated,
    NameChosen,
    Palette,
    Person,
    PersonCreated,
    Preview,
    Received,
    RetentionDone,
    Role,
    Session,
    SessionListed,
    Slides,
    Tally,
    TokenCreated,
    TokenInfo,
    Webhook,
    WebhookCreated,
    WebhookEvent,
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
P = ParamSpec("P")
R = TypeVar("R")

ROUTES: dict[tuple[str, str], str] = {}
"""Every `(method, path)` of the JSON API a method of this client calls, the path as /openapi.json writes it, with
the method's name: tests/server/api/test_client_routes.py checks it against the server's /openapi.json, so a route
without a method here fails the build."""


def calls(method: str, path: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare the route a client method calls (one method a route; a route twice is a mistake, refused here)."""

    def declare(function: Callable[P, R]) -> Callable[P, R]:
        key = (method, path)
        if key in ROUTES:
            raise ValueError(f"{method} {path} is called by {ROUTES[key]} already")
        ROUTES[key] = function.__qualname__
        return function

    return declare


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

    @calls("GET", "/api/v1/decks")
    def decks(self) -> list[DeckSummary]:
        """The decks you see: your own, shared with you, your institutes', templates."""
        return _many(DeckSummary, self.http.get("/api/v1/decks"))

    @calls("GET", "/api/v1/decks/{deck_id}")
    def deck(self, deck_id: int) -> Deck:
        return _one(Deck, self.http.get(f"/api/v1/decks/{deck_id}"))

    @calls("POST", "/api/v1/decks")
    def create_deck(self, *, title: str | None = None, copy_of: int | None = None, source: str | None = None) -> Deck:
        """A new deck of yours: give one of a `title` (an empty draft), a deck to copy, or YAML text."""
        body = {name: value for name, value in (("title", title), ("copy_of", copy_of), ("source", source)) if value}
        return _one(Deck, self.http.post("/api/v1/decks", json=body))

    @calls("PUT", "/api/v1/decks/{deck_id}")
    def save_deck(
        self, deck_id: int, version: int, *, document: Mapping[str, Any] | None = None, source: str | None = None
    ) -> DeckSaved:
        """Save a new version based on `version`: ApiError 409 when someone saved since (its body holds theirs)."""
        body: dict[str, Any] = {"version": version}
        body.update({"document": dict(document)} if document is not None else {"source": source})
        return _one(DeckSaved, self.http.put(f"/api/v1/decks/{deck_id}", json=body))

    @calls("DELETE", "/api/v1/decks/{deck_id}")
    def delete_deck(self, deck_id: int) -> None:
        _checked(self.http.delete(f"/api/v1/decks/{deck_id}"))

    @calls("POST", "/api/v1/decks/{deck_id}/restore")
    def restore_deck(self, deck_id: int) -> Deck:
        return _one(Deck, self.http.post(f"/api/v1/decks/{deck_id}/restore"))

    @calls("GET", "/api/v1/decks/{deck_id}/yaml")
    def deck_yaml(self, deck_id: int) -> str:
        """The deck's YAML text, as stored."""
        return _checked(self.http.get(f"/api/v1/decks/{deck_id}/yaml")).text

    # --- images (docs/api.md, "Images") -------------------------------------------------------------------------

    @calls("POST", "/api/v1/media")
    def upload_media(self, image: Path | bytes, filename: str = "image") -> MediaStored:
        """Upload a PNG, JPEG, WebP or GIF; the answer's `media` is the name a deck writes (`{media: <name>}`)."""
        if isinstance(image, Path):
            filename, image = image.name, image.read_bytes()
        return _one(MediaStored, self.http.post("/api/v1/media", files={"file": (filename, image)}))

    # --- sessions (docs/api.md, "Sessions") ---------------------------------------------------------------------

    @calls("POST", "/api/v1/sessions")
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

    @calls("GET", "/api/v1/sessions/{session_id}")
    def session(self, session_id: int) -> Session:
        return _one(Session, self.http.get(f"/api/v1/sessions/{session_id}"))

    @calls("POST", "/api/v1/sessions/{session_id}/control")
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

    @calls("GET", "/api/v1/sessions/{session_id}/activities/{activity_id}/tally")
    def tally(self, session_id: int, activity_id: int) -> Tally:
        """An activity's live results, moderation applied."""
        return _one(Tally, self.http.get(f"/api/v1/sessions/{session_id}/activities/{activity_id}/tally"))

    @calls("POST", "/api/v1/sessions/{session_id}/facilitators")
    def add_facilitator(self, session_id: int, email: str) -> Session:
        return _one(Session, self.http.post(f"/api/v1/sessions/{session_id}/facilitators", json={"email": email}))

    @calls("DELETE", "/api/v1/sessions/{session_id}/facilitators/{user_id}")
    def remove_facilitator(self, session_id: int, user_id: int) -> None:
        _checked(self.http.delete(f"/api/v1/sessions/{session_id}/facilitators/{user_id}"))

    # --- exports and archives (docs/api.md; what is inside: docs/archives.md) -------------------------------------

    @calls("GET", "/api/v1/sessions/{session_id}/archive.zip")
    def session_archive(self, session_id: int) -> bytes:
        """The session's archive, a ZIP."""
        return _checked(self.http.get(f"/api/v1/sessions/{session_id}/archive.zip")).content

    @calls("GET", "/api/v1/cohorts/{cohort_id}/archive.zip")
    def cohort_archive(self, cohort_id: int) -> bytes:
        return _checked(self.http.get(f"/api/v1/cohorts/{cohort_id}/archive.zip")).content

    @calls("GET", "/api/v1/institutes/{institute_id}/archive.zip")
    def institute_archive(self, institute_id: int) -> bytes:
        return _checked(self.http.get(f"/api/v1/institutes/{institute_id}/archive.zip")).content

    @calls("POST", "/api/v1/archives")
    def import_archive(self, archive: bytes) -> dict[str, Any]:
        """Import an archive (docs/archives.md, "Importing"): what was made of it."""
        response = self.http.post("/api/v1/archives", content=archive, headers={"Content-Type": "application/zip"})
        return dict(_checked(response).json())

    @calls("GET", "/api/v1/sessions/{session_id}/activities/{activity_id}/export.{extension}")
    def activity_export(self, session_id: int, activity_id: int, extension: str = "csv") -> str:
        """An activity's responses as CSV (or, for resources, `md` and `html` lists)."""
        url = f"/api/v1/sessions/{session_id}/activities/{activity_id}/export.{extension}"
        return _checked(self.http.get(url)).text

    # --- institutes and cohorts (an organizer's token) ------------------------------------------------------------

    @calls("GET", "/api/v1/institutes")
    def institutes(self) -> list[Institute]:
        return _many(Institute, self.http.get("/api/v1/institutes"))

    @calls("POST", "/api/v1/institutes")
    def create_institute(self, title: str, description: str = "") -> Institute:
        body = {"title": title, "description": description}
        return _one(Institute, self.http.post("/api/v1/institutes", json=body))

    @calls("GET", "/api/v1/institutes/{institute_id}")
    def institute(self, institute_id: int) -> Institute:
        return _one(Institute, self.http.get(f"/api/v1/institutes/{institute_id}"))

    @calls("POST", "/api/v1/institutes/{institute_id}/cohorts")
    def create_cohort(self, institute_id: int, name: str, **fields: Any) -> Cohort:
        """A new cohort: `site`, `starts_on`, `ends_on` (ISO dates), `facilitators`, `deck_ids`, `same_identity`,
        `time_zone` as docs/api.md says."""
        body = {"name": name, **fields}
        return _one(Cohort, self.http.post(f"/api/v1/institutes/{institute_id}/cohorts", json=body))

    @calls("GET", "/api/v1/cohorts/{cohort_id}")
    def cohort(self, cohort_id: int) -> Cohort:
        return _one(Cohort, self.http.get(f"/api/v1/cohorts/{cohort_id}"))

    @calls("GET", "/api/v1/institutes/{institute_id}/compare")
    def comparisons(self, institute_id: int) -> list[dict[str, Any]]:
        """The activities the institute's cohorts ran, each with the cohorts that ran it."""
        return list(_checked(self.http.get(f"/api/v1/institutes/{institute_id}/compare")).json())

    @calls("GET", "/api/v1/institutes/{institute_id}/compare/{key}")
    def comparison(self, institute_id: int, key: str) -> dict[str, Any]:
        return dict(_checked(self.http.get(f"/api/v1/institutes/{institute_id}/compare/{key}")).json())

    @calls("GET", "/api/v1/institutes/{institute_id}/pools/{kind}")
    def pool(self, institute_id: int, kind: str = "resources", type: str | None = None) -> dict[str, Any]:
        """A kind's institute-wide pool (`resources`: the resource library)."""
        params = {"type": type} if type else {}
        response = self.http.get(f"/api/v1/institutes/{institute_id}/pools/{kind}", params=params)
        return dict(_checked(response).json())

    # --- your API tokens --------------------------------------------------------------------------------------------

    @calls("GET", "/api/v1/tokens")
    def tokens(self) -> list[TokenInfo]:
        return _many(TokenInfo, self.http.get("/api/v1/tokens"))

    @calls("DELETE", "/api/v1/tokens/{token_id}")
    def revoke_token(self, token_id: int) -> None:
        _checked(self.http.delete(f"/api/v1/tokens/{token_id}"))

    # --- routes for every page action (docs/api.md, "Every page action over the API") ------------------------------

    # cohorts: editing, starting a session, retention

    @calls("PATCH", "/api/v1/cohorts/{cohort_id}")
    def update_cohort(self, cohort_id: int, **fields: Any) -> Cohort:
        """Change only the fields given (`name`, `site`, `starts_on`, `ends_on`, `facilitators`, `same_identity`,
        `deck_ids`, which replaces the cohort's decks in order, `time_zone`); the cohort after it."""
        return _one(Cohort, self.http.patch(f"/api/v1/cohorts/{cohort_id}", json=fields))

    @calls("POST", "/api/v1/cohorts/{cohort_id}/sessions")
    def start_cohort_session(
        self,
        cohort_id: int,
        deck_id: int,
        *,
        title: str | None = None,
        nicknames: bool = False,
        teams: list[str] | None = None,
        site_teams: bool = False,
        streak: bool = False,
    ) -> CohortSessionStarted:
        """Start a session of one of the cohort's decks (ApiError 409 for a deck the cohort does not have)."""
        body: dict[str, Any] = {
            "deck_id": deck_id,
            "nicknames": nicknames,
            "teams": teams or [],
            "site_teams": site_teams,
            "streak": streak,
        }
        if title is not None:
            body["title"] = title
        return _one(CohortSessionStarted, self.http.post(f"/api/v1/cohorts/{cohort_id}/sessions", json=body))

    @calls("POST", "/api/v1/cohorts/{cohort_id}/prune")
    def prune_cohort(self, cohort_id: int, confirm: str) -> RetentionDone:
        """Delete who joined and who answered what in the cohort's sessions, keeping results. `confirm` is the
        cohort's name, typed exactly (else ApiError 422 and nothing is deleted); 409 while a session is live."""
        return _one(RetentionDone, self.http.post(f"/api/v1/cohorts/{cohort_id}/prune", json={"confirm": confirm}))

    @calls("DELETE", "/api/v1/cohorts/{cohort_id}")
    def delete_cohort(self, cohort_id: int, confirm: str) -> RetentionDone:
        """Delete the cohort, its sessions and everything in them; `confirm` as in `prune_cohort`."""
        response = self.http.request("DELETE", f"/api/v1/cohorts/{cohort_id}", json={"confirm": confirm})
        return _one(RetentionDone, response)

    @calls("GET", "/api/v1/cohorts/{cohort_id}/sessions/{session_id}/archive.zip")
    def cohort_session_archive(self, cohort_id: int, session_id: int) -> bytes:
        """A session's archive (a ZIP) for the organizers of its cohort, whoever presented it."""
        return _checked(self.http.get(f"/api/v1/cohorts/{cohort_id}/sessions/{session_id}/archive.zip")).content

    # decks: copy, rename, shares, the editor's palette and previews, slides

    @calls("POST", "/api/v1/decks/{deck_id}/copy")
    def copy_deck(self, deck_id: int) -> Deck:
        """ "Copy of <title>", of your own, from any deck you see."""
        return _one(Deck, self.http.post(f"/api/v1/decks/{deck_id}/copy"))

    @calls("PATCH", "/api/v1/decks/{deck_id}")
    def rename_deck(self, deck_id: int, title: str) -> Deck:
        """A new title (a new version, nothing else changes); ApiError 409 if someone saved as it was renamed."""
        return _one(Deck, self.http.patch(f"/api/v1/decks/{deck_id}", json={"title": title}))

    @calls("GET", "/api/v1/decks/{deck_id}/shares")
    def deck_shares(self, deck_id: int) -> list[DeckShare]:
        """Who the deck is shared with (its sharer only: 403 for an editor, 404 for who may not see it)."""
        return _many(DeckShare, self.http.get(f"/api/v1/decks/{deck_id}/shares"))

    @calls("PUT", "/api/v1/decks/{deck_id}/shares")
    def share_deck(self, deck_id: int, email: str, access: Literal["edit", "view"] = "view") -> list[DeckShare]:
        """Share it with an existing account, or change how; who it is shared with now."""
        body = {"email": email, "access": access}
        return _many(DeckShare, self.http.put(f"/api/v1/decks/{deck_id}/shares", json=body))

    @calls("DELETE", "/api/v1/decks/{deck_id}/shares/{user_id}")
    def unshare_deck(self, deck_id: int, user_id: int) -> None:
        """Stop sharing it with that account (also fine when it was not shared with them)."""
        _checked(self.http.delete(f"/api/v1/decks/{deck_id}/shares/{user_id}"))

    @calls("GET", "/api/v1/kinds")
    def kinds(self) -> Palette:
        """The deck editor's palette: every kind, with the JSON schema of its config."""
        return _one(Palette, self.http.get("/api/v1/kinds"))

    @calls("POST", "/api/v1/decks/preview")
    def preview(self, document: Mapping[str, Any], index: int = 0, language: str | None = None) -> Preview:
        """Activity `index` (from 0) of a deck document as a phone and the projector show it, or its problems."""
        body: dict[str, Any] = {"document": dict(document), "index": index}
        if language is not None:
            body["language"] = language
        return _one(Preview, self.http.post("/api/v1/decks/preview", json=body))

    @calls("POST", "/api/v1/slides")
    def import_slides(self, slides: Path | bytes, filename: str = "slides.pdf") -> Slides:
        """Store each page of a PDF (or PowerPoint) as an image for content slides. The answer streams one JSON
        line per step; this returns the last (`slides`, `filename`). A refusal found while reading the file (its
        `{"error": ...}` line) raises ApiError with the answer's status (200) and that error as `detail`."""
        if isinstance(slides, Path):
            filename, slides = slides.name, slides.read_bytes()
        response = _checked(self.http.post("/api/v1/slides", files={"file": (filename, slides)}))
        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        last = lines[-1] if lines else {"error": "The answer was empty."}
        if "error" in last:
            raise ApiError(response.status_code, "Slides not imported", str(last["error"]), last)
        return Slides.model_validate(last)

    # presenting: the session list, moderation, the report, a kind's files

    @calls("GET", "/api/v1/sessions")
    def sessions(self) -> list[SessionListed]:
        """The sessions you run (as presenter or co-facilitator; an admin: all), live ones first, at most 50."""
        return _many(SessionListed, self.http.get("/api/v1/sessions"))

    @calls("POST", "/api/v1/sessions/{session_id}/activities/{activity_id}/moderation")
    def moderation(self, session_id: int, activity_id: int, verb: str, **target: str) -> Moderated:
        """Moderate answers: a verb of the activity's kind and its target field (`word=`, `answer=`, `question=`,
        `item=`, `order=`, `title=`: docs/api.md's table). The moderation state and the results with it applied."""
        url = f"/api/v1/sessions/{session_id}/activities/{activity_id}/moderation"
        return _one(Moderated, self.http.post(url, json={"verb": verb, **target}))

    @calls("GET", "/api/v1/sessions/{session_id}/report.html")
    def report(self, session_id: int) -> str:
        """The session's printable report, a whole HTML page."""
        return _checked(self.http.get(f"/api/v1/sessions/{session_id}/report.html")).text

    @calls("GET", "/api/v1/sessions/{session_id}/activities/{activity_id}/{asset}")
    def activity_asset(self, session_id: int, activity_id: int, asset: str) -> bytes:
        """A kind's rendered file as the presenter sees it (the word cloud's `cloud.svg`, `cloud.png`)."""
        return _checked(self.http.get(f"/api/v1/sessions/{session_id}/activities/{activity_id}/{asset}")).content

    # comparisons' and pools' files

    @calls("GET", "/api/v1/institutes/{institute_id}/compare/{key}/export.csv")
    def comparison_export(self, institute_id: int, key: str) -> str:
        """A comparison as CSV: one row per column and result line."""
        return _checked(self.http.get(f"/api/v1/institutes/{institute_id}/compare/{key}/export.csv")).text

    @calls("GET", "/api/v1/institutes/{institute_id}/compare/{key}/{column}/{asset}")
    def comparison_asset(self, institute_id: int, key: str, column: str, asset: str) -> bytes:
        """A comparison column's rendered file (a word cloud's `cloud.svg`...)."""
        url = f"/api/v1/institutes/{institute_id}/compare/{key}/{column}/{asset}"
        return _checked(self.http.get(url)).content

    @calls("GET", "/api/v1/institutes/{institute_id}/pools/{kind}/export.{extension}")
    def pool_export(
        self, institute_id: int, kind: str = "resources", extension: str = "csv", type: str | None = None
    ) -> str:
        """A kind's pool as CSV, or as one of the kind's documents (`md`, `html` for the resource library)."""
        params = {"type": type} if type else {}
        url = f"/api/v1/institutes/{institute_id}/pools/{kind}/export.{extension}"
        return _checked(self.http.get(url, params=params)).text

    # your account: who, the password, a new token

    @calls("GET", "/api/v1/account")
    def account(self) -> Account:
        """Who the token belongs to."""
        return _one(Account, self.http.get("/api/v1/account"))

    @calls("PUT", "/api/v1/account/password")
    def change_password(self, current_password: str, new_password: str, new_password_again: str | None = None) -> None:
        """Change the account's password (its browsers are signed out, its API tokens keep working). A wrong
        current password is ApiError 422 and counts as a failed sign-in (too many: 429)."""
        body = {"current_password": current_password, "new_password": new_password}
        if new_password_again is not None:
            body["new_password_again"] = new_password_again
        _checked(self.http.put("/api/v1/account/password", json=body))

    @calls("POST", "/api/v1/tokens")
    def create_token(self, name: str) -> TokenCreated:
        """A new API token of your account; its `secret` is in this answer only."""
        return _one(TokenCreated, self.http.post("/api/v1/tokens", json={"name": name}))

    # people and single sign-on identities (an admin's token)

    @calls("GET", "/api/v1/people")
    def people(self) -> list[Person]:
        return _many(Person, self.http.get("/api/v1/people"))

    @calls("POST", "/api/v1/people")
    def create_person(
        self,
        email: str,
        role: Role | None = None,
        *,
        password: str | None = None,
        sign_in: Literal["provider"] | None = None,
    ) -> PersonCreated:
        """A new account with a one-time password (the one given, or one made here and answered once as
        `password`), or with `sign_in="provider"` none: its owner signs in through single sign-on."""
        given = {"email": email, "role": role, "password": password, "sign_in": sign_in}
        body = {name: value for name, value in given.items() if value is not None}
        return _one(PersonCreated, self.http.post("/api/v1/people", json=body))

    @calls("PATCH", "/api/v1/people/{user_id}")
    def update_person(
        self,
        user_id: int,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        pending: Literal[False] | None = None,
    ) -> Person:
        """Change an account's role, then disable or enable it, then (`pending=False`) approve it; only what is
        given. Your own account cannot be disabled, nor the last enabled admin demoted: ApiError 409."""
        given = {"role": role, "disabled": disabled, "pending": pending}
        body = {name: value for name, value in given.items() if value is not None}
        return _one(Person, self.http.patch(f"/api/v1/people/{user_id}", json=body))

    def approve_person(self, user_id: int) -> Person:
        """Approve an account a single sign-on made, waiting for an administrator."""
        return self.update_person(user_id, pending=False)

    @calls("POST", "/api/v1/identities/{identity_id}/link")
    def link_identity(self, identity_id: int) -> Person:
        """Link a provider's sign-in to the account with its email; that account."""
        return _one(Person, self.http.post(f"/api/v1/identities/{identity_id}/link"))

    @calls("DELETE", "/api/v1/identities/{identity_id}")
    def unlink_identity(self, identity_id: int) -> None:
        """Refuse a link request, or undo a link (fine when it is gone already)."""
        _checked(self.http.delete(f"/api/v1/identities/{identity_id}"))

    # webhooks (docs/api.md, "Webhooks")

    @calls("POST", "/api/v1/webhooks")
    def create_webhook(self, url: str, events: list[WebhookEvent]) -> WebhookCreated:
        """A webhook of your account; its `secret` (the signatures' key) is in this answer only."""
        return _one(WebhookCreated, self.http.post("/api/v1/webhooks", json={"url": url, "events": events}))

    @calls("GET", "/api/v1/webhooks")
    def webhooks(self) -> list[Webhook]:
        return _many(Webhook, self.http.get("/api/v1/webhooks"))

    @calls("GET", "/api/v1/webhooks/{webhook_id}")
    def webhook(self, webhook_id: int) -> Webhook:
        return _one(Webhook, self.http.get(f"/api/v1/webhooks/{webhook_id}"))

    @calls("PATCH", "/api/v1/webhooks/{webhook_id}")
    def update_webhook(
        self,
        webhook_id: int,
        *,
        active: bool | None = None,
        url: str | None = None,
        events: list[WebhookEvent] | None = None,
    ) -> Webhook:
        """Pause (`active=False`) or resume it, or change its URL or events; only what is given."""
        given: dict[str, Any] = {"active": active, "url": url, "events": events}
        body = {name: value for name, value in given.items() if value is not None}
        return _one(Webhook, self.http.patch(f"/api/v1/webhooks/{webhook_id}", json=body))

    @calls("DELETE", "/api/v1/webhooks/{webhook_id}")
    def delete_webhook(self, webhook_id: int) -> None:
        _checked(self.http.delete(f"/api/v1/webhooks/{webhook_id}"))

    @calls("GET", "/api/v1/webhooks/{webhook_id}/deliveries")
    def webhook_deliveries(self, webhook_id: int) -> list[Delivery]:
        """Its recent deliveries, each with its outcome."""
        return _many(Delivery, self.http.get(f"/api/v1/webhooks/{webhook_id}/deliveries"))

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

    @calls("POST", "/api/v1/join")
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

    @calls("GET", "/api/v1/live")
    def live(self) -> Live:
        """What this participant's screen shows now."""
        params = {"session_id": self.session_id}
        return _one(Live, self.handsup.http.get("/api/v1/live", params=params, headers=self._headers))

    def answer(self, activity_id: int, **fields: FieldValue) -> Received:
        """Answer an activity with its kind's fields (`choice="1"`, `word=["trust"]`...; a numbered field such as
        `card-0` goes through `answer_fields`). Stored when this returns."""
        return self.answer_fields(activity_id, fields)

    @calls("POST", "/api/v1/responses")
    def answer_fields(self, activity_id: int, fields: Mapping[str, FieldValue]) -> Received:
        body = {"activity_id": activity_id, "answer": dict(fields)}
        return _one(Received, self.handsup.http.post("/api/v1/responses", json=body, headers=self._headers))

    @calls("POST", "/api/v1/sessions/{session_id}/reactions")
    def react(self, reaction: Reaction) -> None:
        url = f"/api/v1/sessions/{self.session_id}/reactions"
        _checked(self.handsup.http.post(url, json={"reaction": reaction}, headers=self._headers))

    @calls("PUT", "/api/v1/sessions/{session_id}/name")
    def choose_name(self, nickname: str = "", team: str = "") -> NameChosen:
        url = f"/api/v1/sessions/{self.session_id}/name"
        body = {"nickname": nickname, "team": team}
        return _one(NameChosen, self.handsup.http.put(url, json=body, headers=self._headers))
