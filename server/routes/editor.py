"""The deck editor: its page, the palette of kinds its forms are built from, and the previews of one activity as a
phone and the projector would show it. Decks are read and saved through the deck library's source.json."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from activities import Registry
from activities.base import ActivityKind
from activities.i18n import N_, _, ngettext
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
from server.web.i18n import catalogues, in_their_language
from server.web.problems import API_ERRORS, Problem, problem_responses

router = APIRouter(prefix="/present", include_in_schema=False, dependencies=[Depends(in_their_language)])

MAX_PREVIEW_BYTES = 2 * MAX_DECK_BYTES
"""A preview's body: the whole deck as JSON (the document it edits), which may run longer than its YAML."""


# --- the palette: what the editor's forms are built from ---------------------------------------------------------


EXTRA_WORDS_HELP = N_("Your own words to hold back, one per line (up to {limit} characters each)")


class FilterFields(BaseModel):
    """The profanity filter of a deck, or of one activity where people type text."""

    profanity: bool = Field(default=True, description=N_("Hold back answers with a listed word until you show them"))
    languages: list[Literal["en", "es"]] = Field(
        default=list(LANGUAGES), description=N_("The shipped word lists to use"), json_schema_extra={"widget": "checks"}
    )
    extra_words: list[str] = Field(
        default=[],
        max_length=MAX_EXTRA_WORDS,
        description=EXTRA_WORDS_HELP.format(limit=MAX_TERM_LENGTH),
    )


class ActivityFields(BaseModel):
    """What every activity has, whatever its kind."""

    title: str = Field(min_length=1, max_length=200, description=N_("What phones and the projector show at the top"))
    prompt: str = Field(
        default="",
        max_length=1000,
        description=N_("A question or an instruction under the title (optional)"),
        json_schema_extra={"widget": "textarea"},
    )
    notes: str = Field(
        default="",
        max_length=4000,
        description=N_("Shown only to you in the presenter view"),
        json_schema_extra={"widget": "textarea", "label": N_("Presenter notes")},
    )
    results: ResultsMode = Field(
        default=ResultsMode.live,
        description=N_("Whether the projector shows results as answers arrive"),
        json_schema_extra={
            "labels": {"live": N_("Live, as answers arrive"), "hidden": N_("Hidden until you reveal them")}
        },
    )
    countdown: int | None = Field(
        default=None,
        ge=MIN_COUNTDOWN,
        le=MAX_COUNTDOWN,
        description=N_("Seconds of voting once you start the countdown (blank: no countdown)"),
        json_schema_extra={"label": N_("Countdown (seconds)")},
    )


class DeckFields(BaseModel):
    """What a deck has besides its activities."""

    title: str = Field(min_length=1, max_length=200, description=N_("The name sessions start under"))
    description: str = Field(
        default="", description=N_("For you and other facilitators"), json_schema_extra={"widget": "textarea"}
    )
    pace: Pace = Field(
        default=Pace.presenter,
        description=N_(
            "Who moves through the activities: the presenter for everyone, or each participant at their own pace."
        ),
        json_schema_extra={
            "labels": {"presenter": N_("You move everyone along"), "audience": N_("Each person at their own pace")}
        },
    )
    language: str = Field(default="en", description=N_("The language the deck is written in"))


FIELD_LABELS = {
    "accepted": N_("Accepted"),
    "activities": N_("Activities"),
    "allow_skip": N_("Allow skip"),
    "alt": N_("Alt"),
    "areas": N_("Areas"),
    "bins": N_("Bins"),
    "body": N_("Body"),
    "cards": N_("Cards"),
    "correct": N_("Correct"),
    "decimals": N_("Decimals"),
    "description": N_("Description"),
    "entries": N_("Entries"),
    "extra_words": N_("Extra words"),
    "fold_accents": N_("Fold accents"),
    "height": N_("Height"),
    "image": N_("Image"),
    "images": N_("Images"),
    "items": N_("Items"),
    "label": N_("Label"),
    "labels": N_("Labels"),
    "language": N_("Language"),
    "languages": N_("Languages"),
    "layout": N_("Layout"),
    "lemmatise": N_("Lemmatise"),
    "max": N_("Max"),
    "max_choices": N_("Max choices"),
    "max_length": N_("Max length"),
    "max_questions": N_("Max questions"),
    "media": N_("Media"),
    "min": N_("Min"),
    "moderated": N_("Moderated"),
    "multiple": N_("Multiple"),
    "names": N_("Names"),
    "options": N_("Options"),
    "pace": N_("Pace"),
    "partial": N_("Partial"),
    "phones": N_("Phones"),
    "points": N_("Points"),
    "profanity": N_("Profanity"),
    "prompt": N_("Prompt"),
    "results": N_("Results"),
    "statements": N_("Statements"),
    "time_limit": N_("Time limit"),
    "title": N_("Title"),
    "tolerance": N_("Tolerance"),
    "top": N_("Top"),
    "total": N_("Total"),
    "types": N_("Types"),
    "unit": N_("Unit"),
    "width": N_("Width"),
    "x": N_("X"),
    "y": N_("Y"),
}
"""Names for the fields of the built-in kinds' forms, where a field gives no `label` of its own: in English each is the
field's key made readable (as the editor shows any other field), for the catalogues to translate. A plug-in's fields
are named by their keys."""


def shown(text: str) -> str:
    """A text marked with N_, in the language being rendered (an empty one stays empty: gettext's "" is the
    catalogue's header)."""
    return _(text) if text else text


def translated_schema(node: Any) -> Any:
    """A JSON schema with what the editor's form shows people in the language being rendered: each `description`,
    `label` and `labels` (marked with N_ where they are written), and a `label` for each property that had none."""
    if isinstance(node, list):
        return [translated_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    found: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("description", "label") and isinstance(value, str):
            found[key] = shown(value)
        elif key == "labels" and isinstance(value, dict):
            found[key] = {name: shown(text) if isinstance(text, str) else text for name, text in value.items()}
        elif key == "properties" and isinstance(value, dict):
            found[key] = {
                name: _labelled(name, translated_schema(field)) if isinstance(field, dict) else field
                for name, field in value.items()
            }
        else:
            found[key] = translated_schema(value)
    return found


def _labelled(name: str, field: dict[str, Any]) -> dict[str, Any]:
    if "label" not in field and name in FIELD_LABELS:
        return {**field, "label": _(FIELD_LABELS[name])}
    return field


def kind_entry(kind: ActivityKind[Any, Any]) -> dict[str, Any]:
    """One kind as the palette offers it: its words, what it takes, and its Config's JSON schema (the form), in the
    language being rendered."""
    return {
        "name": kind.name,
        "label": shown(kind.label),
        "description": shown(kind.description),
        "takes_answers": kind.takes_answers,
        "takes_free_text": kind.takes_free_text,
        "translatable": sorted(kind.translatable),
        "schema": translated_schema(kind.config_model.model_json_schema()),
    }


def palette(registry: Registry) -> dict[str, Any]:
    """Every kind the server knows (built-in or plug-in), the fields every activity and deck has, and the languages
    the server has catalogues for: all the editor needs to build its forms, so a new kind needs no server change."""
    languages = [{"code": language.code, "name": language.name} for language in catalogues().languages]
    deck = DeckFields.model_json_schema()
    deck["properties"]["language"]["enum"] = [language["code"] for language in languages]
    deck["properties"]["language"]["labels"] = {language["code"]: language["name"] for language in languages}
    filter_fields = translated_schema(FilterFields.model_json_schema())
    filter_fields["properties"]["extra_words"]["description"] = _(EXTRA_WORDS_HELP).format(limit=MAX_TERM_LENGTH)
    return {
        "kinds": [kind_entry(kind) for kind in registry.all()],
        "activity": translated_schema(ActivityFields.model_json_schema()),
        "deck": translated_schema(deck),
        "filter": filter_fields,
        "languages": languages,
        "fields": {key: _(label) for key, label in FIELD_LABELS.items()},  # problems name their fields by these
        "countdown": {"minimum": MIN_COUNTDOWN, "maximum": MAX_COUNTDOWN},
    }


@router.get("/kinds.json")
async def kinds_json(user: PageUser, services: ServicesDep) -> JSONResponse:
    """The palette of kinds and the fields of decks and activities, as JSON schemas for the editor's forms."""
    return JSONResponse(palette(services.registry))


# --- the page -------------------------------------------------------------------------------------------------------


def editor_messages() -> dict[str, str | list[str]]:
    """What static/js/editor.js says, in the language being rendered: the page carries it as a JSON data block, so
    the script needs no catalogue of its own and pybabel extracts these with the rest. `{name}` placeholders are
    filled in by the script; a plural is its forms for one and for several."""
    return {
        "no_title": _("(no title)"),
        "deck": _("Deck"),
        "problems": [ngettext("1 problem", "{count} problems", 1), ngettext("1 problem", "{count} problems", 2)],
        "fix_to_start": [
            ngettext(
                "Fix the problem above to start a session.", "Fix the {count} problems above to start a session.", 1
            ),
            ngettext(
                "Fix the problem above to start a session.", "Fix the {count} problems above to start a session.", 2
            ),
        ],
        "wait_for_save": _("Wait for the deck to be saved."),
        "add_first": _("Add an activity first."),
        "markdown_hint": _("Markdown: **bold**, *italic*, - lists, [links](https://…). "),
        "none": _("None"),
        "from_to": _("From {min} to {max}."),
        "blank_none": _("Blank: none."),
        "blank_word": _("blank"),
        "list_legend": _("{label} ({min} to {max})"),
        "item_label": _("{label}: item {number}"),
        "item_placeholder": _("{item} {number}"),
        "move_item_up": _("Move {item} {number} up"),
        "move_item_down": _("Move {item} {number} down"),
        "remove_item": _("Remove {item} {number}"),
        "remove": _("Remove"),
        "add_item": _("Add {item}"),
        "records_legend": _("{label} (up to {max})"),
        "uploading": _("Uploading…"),
        "not_uploaded": _("Not uploaded: {reason}"),
        "not_uploaded_offline": _("Not uploaded: you are offline."),
        "replace_image": _("Replace {item}"),
        "upload_image": _("Upload {item}"),
        "alt_label": _("Alt text: what the image shows (required)"),
        "remove_image": _("Remove {item}"),
        "image": _("Image"),
        "moved_to": _("Moved to position {position} of {count}"),
        "filter_activity": _("Profanity filter for this activity"),
        "filter_deck": _("Profanity filter (for every activity where people type)"),
        "filter_hold": _("Hold back answers with a listed word"),
        "word_lists": _("Word lists"),
        "extra_words": _("Extra words"),
        "deck_language": _("{name} (the deck's language)"),
        "editing_in": _("Editing and previewing the texts in {name}"),
        "texts_in": _("Texts in other languages: show and edit the texts in"),
        "texts_only": _(
            "Only the texts change per language; the deck's language text shows greyed where there is none."
        ),
        "no_activity_selected": _("No activity selected"),
        "add_from_palette": _("Add an activity from the palette in the outline."),
        "activity_heading": _("Activity {number}: {kind}"),
        "no_such_kind": _("This server has no kind called “{kind}”."),
        "kind_settings": _("{kind} settings"),
        "move_up": _("Move ‘{title}’ up"),
        "move_down": _("Move ‘{title}’ down"),
        "duplicate_title": _("Duplicate ‘{title}’"),
        "delete_title": _("Delete ‘{title}’"),
        "duplicate": _("Duplicate"),
        "delete": _("Delete"),
        "moved_title": _("Moved ‘{title}’ to position {position} of {count}"),
        "duplicated": _("Duplicated ‘{title}’ as activity {number}"),
        "deleted": _("Deleted ‘{title}’."),
        "deleted_undo": _("Deleted ‘{title}’. Press Undo to bring it back."),
        "brought_back": _("Brought back ‘{title}’ at position {position}"),
        "added": _("Added a {kind} as activity {number}"),
        "not_saved_yet": _("Not saved yet"),
        "offline_retrying": _("Not saved: you are offline; retrying"),
        "saved_at": _("Saved {time}"),
        "saving": _("Saving…"),
        "busy_retrying": _("Not saved: the server is busy; retrying"),
        "view_only": _("you may only view this deck"),
        "error_status": _("error {status}"),
        "not_saved": _("Not saved: {reason}"),
        "conflict_at": _(
            "{who} saved this deck at {time} while you were editing. "
            "Your version is kept here: choose which one to keep."
        ),
        "conflict": _(
            "{who} saved this deck while you were editing. Your version is kept here: choose which one to keep."
        ),
        "someone": _("Someone"),
        "not_saved_conflict": _("Not saved: someone else saved this deck"),
        "showing_theirs": _("Showing their version"),
        "preview_empty": _("Add an activity to see it as a phone and the projector show it."),
        "no_preview": _("No preview: {reason}"),
        "no_preview_offline": _("No preview while offline."),
        "no_preview_until": _("No preview until this is fixed: {problems}"),
        "preview_note": _("Activity {number} as it opens, before any answers."),
        "importing": _("Importing slides…"),
        "not_imported": _("Not imported: {reason}"),
        "not_imported_offline": _("Not imported: you are offline."),
        "importing_n": _("Importing {count} slides…"),
        "imported_of": _("Imported {page} of {count} slides…"),
        "imported_from": _("Imported {count} slides from {file}."),
        "the_file": _("the file"),
        "imported_deck": _("the imported deck"),
        "slide_of": _("Slide {number} of {file}"),
        "imported_after": _("Imported {count} slides after activity {number}"),
        "could_not_load": _("Could not load this deck: reload the page to try again"),
        "all_saved": _("All changes saved"),
        "read_only": _("Read only: changes are not saved"),
    }


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
        messages=editor_messages(),
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
        return (
            None,
            "",
            Pace.presenter,
            [{"path": "activities", "line": None, "message": _("no activity at this place")}],
        )
    title = document.get("title")
    one: dict[str, Any] = {key: document[key] for key in ("pace", "language", "filter") if key in document}
    one.update(
        title=title if isinstance(title, str) and title.strip() else _("Preview"), activities=[activities[index]]
    )
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
        raise Problem(
            413, _("Too large"), _("A deck may be at most {size} KiB.").format(size=MAX_DECK_BYTES // 1024)
        ) from None
    await check_csrf(bounded)  # after the bounded read: a form-posted token is read from the body just kept
    return JSONResponse(previewed(services, request, body))


def previewed(services: Services, request: Request, body: bytes) -> dict[str, Any]:
    """A preview request's answer, {phone, projector, problems} (the page and the JSON API); 422 for a body that is
    not {document, index, language}."""
    try:
        # Strictly, as documented: an index of false or "1" is refused, not taken as 0 or 1.
        asked = PreviewRequest.model_validate(json.loads(body or b"null"), strict=True)
    except (ValueError, ValidationError):
        raise Problem(422, _("Not a preview"), _("Send {document, index, language} as JSON.")) from None
    language = catalogues().match(asked.language) or "en"
    activity, title, pace, problems = preview_activity(services.registry, asked.document, asked.index)
    if activity is None:
        return {"phone": None, "projector": None, "problems": problems}
    room = preview_room(services.registry, activity, title=title, pace=pace)
    url = join_url(services.settings, request, room.snapshot.session.code)
    phone, projector = preview_pages(services.views, room, language=language, join_url=url)
    return {"phone": phone, "projector": projector, "problems": []}


# --- the JSON API: the palette and the previews ----------------------------------------------------------------------

api_router = APIRouter(
    prefix="/api/v1", tags=["v1: deck editor"], responses=API_ERRORS, dependencies=[Depends(in_their_language)]
)


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
