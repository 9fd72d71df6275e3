"""The one path of a response, whichever door it came in by (websocket, form post, JSON API)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from activities.base import FormFields, KindSubmission, ResponseEvent, SubmissionInvalid, whole_number
from activities.i18n import _
from server.live.room import Room
from server.live.writer import WriterBusy, WriterFailed
from server.sessions import elapsed_since_open, seconds_left

ACTIVITY_FIELD = "activity"


class Refused(Exception):
    """A response the server will not take; the message is for the participant, the status for the API."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


async def respond(room: Room, participant_id: int, activity_id: int, form: FormFields) -> ResponseEvent:
    """Validate, store (group commit), and return the committed event. Refused: nothing was stored."""
    snapshot = room.snapshot
    activity = snapshot.activity(activity_id)
    if not snapshot.live:
        raise Refused(_("This session has ended. Thank you for taking part!"))
    if activity is None:  # found by its id: `activity_id` is its id below (the ORM's attribute reads cost, per vote)
        raise Refused(_("That activity is not part of this session."))
    if not snapshot.reachable(activity) and activity_id not in snapshot.ambient:
        if snapshot.current is None:
            raise Refused(_("The presenter has not started an activity yet."))
        raise Refused(_("The presenter has moved on; your screen now shows the current activity."))
    if activity_id in snapshot.answerless:
        raise Refused(_("This activity takes no answers: there is nothing to send here."), 422)
    if not activity.voting_open:
        raise Refused(_("Voting is closed for this activity."))
    if seconds_left(activity) == 0:
        raise Refused(_("Time is up: voting has closed."))
    kind = room.deps.registry[activity.kind]
    settings = room.deps.settings
    if not room.answer_rate.take(participant_id):
        raise Refused(
            _("That is more than {count} answers a minute; wait a moment, then send it again.").format(
                count=settings.submissions_per_minute
            ),
            429,
        )
    async with room.answering(participant_id):
        previous = room.tallies[activity_id].answer_of(participant_id)
        try:
            submission: KindSubmission = kind.validate_submission(
                snapshot.configs[activity_id], form, previous, elapsed=elapsed_since_open(activity)
            )
        except SubmissionInvalid as error:
            raise Refused(str(error), 422) from None
        # One cap for every kind, over the kind's own: an answer may shrink below it, never grow past it.
        entries, limit = kind.entries(submission), settings.entries_per_participant
        if entries > limit and (previous is None or entries > kind.entries(previous)):
            message = _("One person can add at most {limit} entries here; remove one of yours to add another.")
            raise Refused(message.format(limit=limit), 422)
        try:
            event = await room.deps.writer.submit(
                room.session_id, activity_id, participant_id, activity.epoch, submission.model_dump(mode="json")
            )
        except WriterBusy:
            raise Refused(_("The server is very busy; your answer was not saved. Please send it again."), 503) from None
        except WriterFailed:
            raise Refused(_("Your answer could not be saved. Please send it again."), 503) from None
        room.fold_now(event, submission)
        return event


def form_from_json(data: Mapping[str, Any], limit: int) -> FormFields:
    """A form from JSON fields (htmx's ws extension, the JSON API): strings or lists of strings only."""
    form: dict[str, list[str]] = {}
    for name, value in data.items():
        if name == "HEADERS":
            continue
        if type(value) is str and len(value) <= limit and value.isascii():  # a field of plain text: most votes' all
            form[str(name)] = [value]
            continue
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            raise Refused(_("The field {name} must be text.").format(name=repr(name)), 422)
        texts = [str(v) for v in values]
        if any(len(text) > limit for text in texts):  # refused, not cut: a kind's smaller limit is checked after
            raise Refused(_("That is too long: keep what you write to {limit} characters.").format(limit=limit), 422)
        if not all(_encodable(text) for text in texts):
            message = _("The field {name} holds a character that is not text (half of a surrogate pair).")
            raise Refused(message.format(name=repr(name)), 422)
        form[str(name)] = texts
    return form


def _encodable(text: str) -> bool:
    """Whether text survives UTF-8: JSON can carry half of a surrogate pair (`"\\ud800"`), which no page, socket or
    database can hold, so storing one would break every later rendering of the answer."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def parse_socket_message(text: str, limit: int) -> FormFields:
    """A participant's websocket message (a JSON object of form fields) as a form; Refused if malformed."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays or objects nested thousands deep
        raise Refused(_("That message was not understood."), 400) from None
    if not isinstance(data, dict):
        raise Refused(_("That message was not understood."), 400)
    return form_from_json(data, limit)


def activity_of(form: FormFields) -> int:
    """The id of the activity a form answers (its hidden `activity` field); Refused without one."""
    activity_id = whole_number(next(iter(form.get(ACTIVITY_FIELD, ())), ""))
    if activity_id is None:
        raise Refused(_("That form does not say which activity it answers."), 422)
    return activity_id
