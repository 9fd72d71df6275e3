"""The deck editor: its page, the palette of kinds its forms are built from, and the previews of one activity as a
phone and the projector would show it. Decks are read and saved through the deck library's source.json."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from activities import Registry
from activities.base import ActivityKind
from server.accounts.access import ApiUser, PageUser
from server.accounts.csrf import check_csrf, csrf_token
from server.decks import MAX_COUNTDOWN, MAX_DECK_BYTES, MIN_COUNTDOWN, DeckInvalid, DeckProblem, deck_yaml, parse_deck
from server.decks.store import DeckRefused, OpenDeck, open_deck
from server.live.fragments import preview_pages, preview_room
from server.models import Activity, Pace, ResultsMode, User
from server.profanity import LANGUAGES, MAX_EXTRA_WORDS, MAX_TERM_LENGTH
from server.services import Services
from server.slideimport import powerpoint_supported
from server.web.bodies import TooLarge, capped
from server.web.deps import Id, ServicesDep, join_url
from server.web.i18n import catalogues
from server.web.problems import API_ERRORS, Problem, problem_responses

router = APIRouter(prefix="/present", include_in_schema=False)

MAX_PREVIEW_BYTES = 2 * MAX_DECK_BYTES
"""A preview's body: the whole deck as JSON (the document it edits), which may run longer than its YAML."""


# --- the palette: what the editor's forms are built from ---------------------------------------------------------


class FilterFields(BaseModel):
    """The profanity filter of a deck, or of one activity where people type text."""

    profanity: bool = Field(default=True, description="Hold back answers with a listed word until you show them")
    languages: list[Literal["en", "es"]] = Field(
        default=list(LANGUAGES), description="The shipped word lists to use", json_schema_extra={"widget": "checks"}
    )
    extra_words: list[str] = Field(
        default=[],
        max_length=MAX_EXTRA_WORDS,
        description=f"Your own words to hold back, one per line (up to {MAX_TERM_LENGTH} characters each)",
    )


class ActivityFields(BaseModel):
    """What every activity has, whatever its kind."""

    title: str = Field(min_length=1, max_length=200, description="What phones and the projector show at the top")
    prompt: str = Field(
        default="",
        max_length=1000,
        description="A question or an instruction under the title (optional)",
        json_schema_extra={"widget": "textarea"},
    )
    notes: str = Field(
        default="",
        max_length=4000,
        description="Shown only to you in the presenter view",
        json_schema_extra={"widget": "textarea", "label": "Presenter notes"},
    )
    results: ResultsMode = Field(
        default=ResultsMode.live,
        description="Whether the projector shows results as answers arrive",
        json_schema_extra={"labels": {"live": "Live, as answers arrive", "hidden": "Hidden until you reveal them"}},
    )
    countdown: int | None = Field(
        default=None,
        ge=MIN_COUNTDOWN,
        le=MAX_COUNTDOWN,
        description="Seconds of voting once you start the countdown (blank: no countdown)",
        json_schema_extra={"label": "Countdown (seconds)"},
    )


class DeckFields(BaseModel):
    """What a deck has besides its activities."""

    title: str = Field(min_length=1, max_length=200, description="The name sessions start under")
    description: str = Field(
        default="", description="For you and other facilitators", json_schema_extra={"widget": "textarea"}
    )
    pace: Pace = Field(
        default=Pace.presenter,
        json_schema_extra={
            "labels": {"presenter": "You move everyone along", "audience": "Each person at their own pace"}
        },
    )
    language: str = Field(default="en", description="The language the deck is written in")


def kind_entry(kind: ActivityKind[Any, Any]) -> dict[str, Any]:
    """One kind as the palette offers it: its words, what it takes, and its Config's JSON schema (the form)."""
    return {
        "name": kind.name,
        "label": kind.label,
        "description": kind.description,
        "takes_answers": kind.takes_answers,
        "takes_free_text": kind.takes_free_text,
        "translatable": sorted(kind.translatable),
        "schema": kind.config_model.model_json_schema(),
    }


def palette(registry: Registry) -> dict[str, Any]:
    """Every kind the server knows (built-in or plug-in), the fields every activity and deck has, and the languages
    the server has catalogues for: all the editor needs to build its forms, so a new kind needs no server change."""
    languages = [{"code": language.code, "name": language.name} for language in catalogues().languages]
    deck = DeckFields.model_json_schema()
    deck["properties"]["language"]["enum"] = [language["code"] for language in languages]
    deck["properties"]["language"]["labels"] = {language["code"]: language["name"] for language in languages}
    return {
        "kinds": [kind_entry(kind) for kind in registry.all()],
        "activity": ActivityFields.model_json_schema(),
        "deck": deck,
        "filter": FilterFields.model_json_schema(),
        "languages": languages,
        "countdown": {"minimum": MIN_COUNTDOWN, "maximum": MAX_COUNTDOWN},
    }


@router.get("/kinds.json")
async def kinds_json(user: PageUser, services: ServicesDep) -> JSONResponse:
    """The palette of kinds and the fields of decks and activities, as JSON schemas for the editor's forms."""
    return JSONResponse(palette(services.registry))


# --- the page -------------------------------------------------------------------------------------------------------


async def deck_for(services: Services, user: User, deck_id: int) -> OpenDeck:
    """The deck and what this person may do with it, as the deck library decides (404 for one they may not see)."""
    try:
        return await open_deck(services.db, user, deck_id)
    except DeckRefused as refused:
        raise Problem(refused.status, refused.title, refused.detail) from None


@router.get("/decks/{deck_id}/edit", response_class=HTMLResponse)
async def editor_page(deck_id: Id, request: Request, user: PageUser, services: ServicesDep) -> HTMLResponse:
    """The deck editor: the outline, the selected activity's form, and its previews, on one screen."""
    found = await deck_for(services, user, deck_id)
    html = services.views.render(
        "editor/page.html",
        user=user,
        deck=found.deck,
        can_edit=found.can_edit,
        csrf=csrf_token(request),
        powerpoint=powerpoint_supported(),
    )
    return HTMLResponse(html)


# --- previews -------------------------------------------------------------------------------------------------------


class PreviewRequest(BaseModel):
    document: dict[str, Any]
    index: int = Field(ge=0, le=1000)
    language: str = Field(default="en", max_length=12)


def activity_problems(problems: list[DeckProblem], index: int) -> list[dict[str, Any]]:
    """A one-activity deck's problems, named as in the whole deck (`activities[0]` is `activities[index]`)."""
    found = []
    for problem in problems:
        path = problem.path
        if path == "activities[0]" or path.startswith(("activities[0].", "activities[0][")):
            path = f"activities[{index}]" + path.removeprefix("activities[0]")
        elif path.startswith("activities"):
            continue
        found.append({"path": path, "line": None, "message": problem.message})
    return found


def preview_activity(
    registry: Registry, document: dict[str, Any], index: int
) -> tuple[Activity | None, str, Pace, list[dict[str, Any]]]:
    """The document's activity `index` as a session would hold it (a transient Activity, never stored), checked by
    the deck parser alone with the deck's settings; or its problems."""
    activities = document.get("activities")
    if not isinstance(activities, list) or not 0 <= index < len(activities):
        return None, "", Pace.presenter, [{"path": "activities", "line": None, "message": "no activity at this place"}]
    title = document.get("title")
    one: dict[str, Any] = {key: document[key] for key in ("pace", "language", "filter") if key in document}
    one.update(title=title if isinstance(title, str) and title.strip() else "Preview", activities=[activities[index]])
    try:
        spec = parse_deck(deck_yaml(one), registry)
    except DeckInvalid as invalid:
        problems = activity_problems(invalid.problems, index)
        return None, "", Pace.presenter, problems or [{"path": "", "line": None, "message": str(invalid)}]
    item = spec.activities[0]
    raw = activities[index]
    notes = raw.get("notes", "") if isinstance(raw, dict) and isinstance(raw.get("notes"), str) else ""
    activity = Activity(
        id=1,
        session_id=0,
        position=0,
        kind=item.kind,
        title=item.title,
        prompt=item.prompt,
        config=item.config,
        results=item.results,
        countdown_seconds=item.countdown,
        texts=item.texts,
        notes=notes,
    )
    return activity, spec.title, spec.pace, []


@router.post("/decks/preview")
async def preview(request: Request, user: PageUser, services: ServicesDep) -> JSONResponse:
    """One activity of a document being edited, as a phone and the projector show it at the start (no answers yet):
    whole pages for sandboxed iframes, rendered by the live templates; or the activity's problems instead."""
    try:
        bounded = capped(request, MAX_PREVIEW_BYTES)
        body = await bounded.body()
    except TooLarge:
        raise Problem(413, "Too large", f"A deck may be at most {MAX_DECK_BYTES // 1024} KiB.") from None
    await check_csrf(bounded)  # after the bounded read: a form-posted token is read from the body just kept
    return JSONResponse(previewed(services, request, body))


def previewed(services: Services, request: Request, body: bytes) -> dict[str, Any]:
    """A preview request's answer, {phone, projector, problems} (the page and the JSON API); 422 for a body that is
    not {document, index, language}."""
    try:
        # Strictly, as documented: an index of false or "1" is refused, not taken as 0 or 1.
        asked = PreviewRequest.model_validate(json.loads(body or b"null"), strict=True)
    except (ValueError, ValidationError):
        raise Problem(422, "Not a preview", "Send {document, index, language} as JSON.") from None
    language = catalogues().match(asked.language) or "en"
    activity, title, pace, problems = preview_activity(services.registry, asked.document, asked.index)
    if activity is None:
        return {"phone": None, "projector": None, "problems": problems}
    room = preview_room(services.registry, activity, title=title, pace=pace)
    url = join_url(services.settings, request, room.snapshot.session.code)
    phone, projector = preview_pages(services.views, room, language=language, join_url=url)
    return {"phone": phone, "projector": projector, "problems": []}


# --- the JSON API: the palette and the previews ----------------------------------------------------------------------

api_router = APIRouter(prefix="/api/v1", tags=["v1: deck editor"], responses=API_ERRORS)


class KindPublic(BaseModel):
    name: str = Field(examples=["wordcloud"])
    label: str = Field(examples=["Word cloud"])
    description: str
    takes_answers: bool = Field(description="False for a kind participants only see (a content slide)")
    takes_free_text: bool = Field(description="Whether its answers hold text a participant wrote")
    translatable: list[str] = Field(description="Config keys a deck may give in several languages")
    schema_: dict[str, Any] = Field(alias="schema", description="The JSON schema of its config in a deck")


class LanguagePublic(BaseModel):
    code: str = Field(examples=["es"])
    name: str = Field(examples=["Español"])


class CountdownBounds(BaseModel):
    minimum: int
    maximum: int


class Palette(BaseModel):
    """Every kind the server knows (built-in or plug-in) and the fields of decks and activities, as JSON schemas:
    what the deck editor builds its forms from."""

    kinds: list[KindPublic]
    activity: dict[str, Any] = Field(description="The JSON schema of the fields every activity has")
    deck: dict[str, Any] = Field(description="The JSON schema of a deck's own fields")
    filter: dict[str, Any] = Field(description="The JSON schema of a profanity filter's settings")
    languages: list[LanguagePublic] = Field(description="The languages the server has catalogues for")
    countdown: CountdownBounds = Field(description="A countdown's bounds, in seconds")


class PreviewPublic(BaseModel):
    """One activity as a phone and the projector show it at the start: whole HTML pages (for sandboxed iframes), or,
    when the activity has problems, none and the problems."""

    phone: str | None
    projector: str | None
    problems: list[dict[str, Any]] = Field(description="Each {path, line, message}, named as in the whole deck")


@api_router.get("/kinds", response_model=Palette, response_model_by_alias=True)
async def kinds_api(user: ApiUser, services: ServicesDep) -> dict[str, Any]:
    """The palette of kinds and the fields of decks and activities, as JSON schemas (the editor's kinds.json)."""
    return palette(services.registry)


@api_router.post(
    "/decks/preview",
    response_model=PreviewPublic,
    responses=problem_responses(413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PreviewRequest.model_json_schema()}},
        }
    },
)
async def preview_api(request: Request, user: ApiUser, services: ServicesDep) -> dict[str, Any]:
    """Preview one activity of a deck document (`index` in its `activities`) in a language, as the editor does."""
    try:
        body = await capped(request, MAX_PREVIEW_BYTES).body()
    except TooLarge:
        raise Problem(413, "Too large", f"A deck may be at most {MAX_DECK_BYTES // 1024} KiB.") from None
    return previewed(services, request, body)
