"""`resources`: a call for resources; each person suggests one (type, title, link, note) and upvotes others'.

Suggestions of the same resource merge: same normalised link, or (when either has no link) the same title ignoring
case. The presenter approves, hides, shows and retitles resources; each is keyed by a digest of its merge identity.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from activities.base import (
    CHART_ROWS,
    KEY,
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    ListItem,
    PoolCohort,
    PoolSource,
    PoolTable,
    Screening,
    SubmissionInvalid,
    Tally,
    digest,
    distinct_labels,
    moderated_as,
    moderation_key,
    most_common,
    shown,
    toggled,
)
from activities.i18n import N_, _
from activities.resources.api import ResourcesAnswer, ResourcesModeration, ResourcesResults
from activities.resources.pool import Library, as_results, identity_key, library, library_table
from activities.text import tidy, tidy_long

DEFAULT_TYPES = ("tool", "video", "activity", "reading", "other")
MAX_TYPES = 12
MAX_TYPE_LENGTH = 30
MAX_TITLE = 120
MAX_LINK = 500
MAX_NOTE = 280
# More upvotes than this in one answer is a forged form: nobody ticks a hundred boxes.
MAX_UPVOTES = 100
# The projector shows at most this many cards (highest score first); the rest are counted.
MAX_PROJECTED = 24
SCHEMES = frozenset({"http", "https"})
# A link typed without a scheme is a web link: this one is put in front of it (`www.example.org/page`).
ASSUMED_SCHEME = "https"
# What starts a link with a scheme (`javascript:`, `mailto:`), as against a website with a port (`example.org:8080`).
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_WITH_PORT = re.compile(r"[^:/?#@]+\.[^:/?#@]+:[0-9]+(?:[/?#]|$)")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Which moderation list each presenter verb adds its resource to (True) or removes it from (False).
VERBS: dict[str, tuple[str, bool]] = {
    "approve": ("approved", True),
    "hide": ("hidden", True),
    "show": ("hidden", False),
}
RETITLE = "retitle"


class ResourcesConfig(KindConfig):
    moderated: bool = Field(
        default=True, description=N_("Resources reach the projector only once the presenter approves")
    )
    types: list[str] = Field(
        default=list(DEFAULT_TYPES),
        min_length=1,
        max_length=MAX_TYPES,
        description=N_("Kinds of resource to choose from"),
    )

    @field_validator("types")
    @classmethod
    def _distinct(cls, types: list[str]) -> list[str]:
        return distinct_labels(types, "type", MAX_TYPE_LENGTH)


def normalise_link(raw: str) -> str:
    """An http(s) link with scheme and host lower-cased, default port and fragment dropped, an empty path as '/'.
    A link typed without a scheme (`www.example.org/page`, `example.org`) is taken as https://, if its website has a
    dot in its name (so a word typed in the link box, or `localhost`, is not taken for one)."""
    if len(raw) > MAX_LINK:
        raise ValueError(
            _("Keep the link to {limit} characters; it has {count}.").format(limit=MAX_LINK, count=len(raw))
        )
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise ValueError(_("A link cannot contain spaces; paste it again."))
    assumed = not _SCHEME.match(raw) or bool(_WITH_PORT.match(raw))
    if assumed:
        raw = f"{ASSUMED_SCHEME}:{raw}" if raw.startswith("//") else f"{ASSUMED_SCHEME}://{raw}"
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(_("Only web links can be shared: start the link with https:// or http://."))
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(_("This link's port is not a number; check the link.")) from None
    if not host or (assumed and not _website_name(host)):
        raise ValueError(_("This link has no website in it; paste the whole link, like https://example.org/page."))
    if parts.username is not None or parts.password is not None:
        raise ValueError(_("Leave the user name and password out of the link."))
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    link = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    if len(link) > MAX_LINK:
        raise ValueError(
            _("Keep the link to {limit} characters; it has {count}.").format(limit=MAX_LINK, count=len(link))
        )
    return link


def _website_name(host: str) -> bool:
    """Whether a host typed without a scheme names a website: dotted names (`example.org`, `www.x.org`) or a
    dotted IPv4 address, never one word (`localhost`, `notes`) or a version number (`v1.2`)."""
    labels = host.split(".")
    if len(labels) < 2 or not all(labels):
        return False
    if all(label.isdigit() for label in labels):
        return len(labels) == 4
    return not labels[-1].isdigit()


def link_host(link: str) -> str:
    """The website of a stored link, as shown on cards."""
    return urlsplit(link).netloc


class ResourcesSubmission(KindSubmission):
    type: str | None = Field(default=None, max_length=MAX_TYPE_LENGTH)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    link: str | None = Field(default=None, max_length=MAX_LINK)
    note: str | None = Field(default=None, max_length=MAX_NOTE)
    upvotes: tuple[str, ...] = Field(default=(), max_length=MAX_UPVOTES)

    @model_validator(mode="before")
    @classmethod
    def _check(cls, raw: Any, info: ValidationInfo) -> Any:
        context = info.context or {}
        if context.get("stored") or not isinstance(raw, dict):
            return raw
        config: ResourcesConfig = context["config"]
        upvotes = _upvotes(raw.get("upvotes") or [])
        title = tidy(str(raw.get("title") or ""))
        link_typed = str(raw.get("link") or "").strip()
        note = tidy_long(str(raw.get("note") or ""))  # typed in a textarea: its line breaks are kept
        if not (title or link_typed or note):
            if not upvotes:
                raise ValueError(_("Suggest a resource or upvote one first."))
            return {"upvotes": upvotes}
        if not title:
            raise ValueError(_("Give your resource a title."))
        if len(title) > MAX_TITLE:
            raise ValueError(
                _("Keep the title to {limit} characters; it has {count}.").format(limit=MAX_TITLE, count=len(title))
            )
        if len(note) > MAX_NOTE:
            raise ValueError(
                _("Keep the note to {limit} characters; it has {count}.").format(limit=MAX_NOTE, count=len(note))
            )
        return {
            "type": _type(config, str(raw.get("type") or "")),
            "title": title,
            "link": normalise_link(link_typed) if link_typed else None,
            "note": note or None,
            "upvotes": upvotes,
        }

    @field_validator("link")
    @classmethod
    def _web_link(cls, link: str | None) -> str | None:
        """Stored answers are trusted, but not their links: one read back from an imported archive must be the
        normalised http(s) link a participant's answer would have become, never `javascript:` or the like."""
        if link is not None and normalise_link(link) != link:
            raise ValueError("A resource's link must be a normalised web link.")
        return link

    @property
    def suggests(self) -> bool:
        return self.title is not None

    @property
    def own_key(self) -> str | None:
        """The key this suggestion alone would have (its link's, else its title's)."""
        return None if self.title is None else identity_key(self.link, self.title)

    def free_text(self) -> list[tuple[str, str]]:
        """Title, link and note, under the suggestion's own key (the snapshot carries it to a merged resource)."""
        key = self.own_key
        if key is None:
            return []
        return [(key, text) for text in (self.title, self.link, self.note) if text]


def _earlier_keys(key: str, members: Sequence[ResourcesSubmission]) -> set[str]:
    """The keys a resource's links had before links a trailing slash apart were one resource (the digest of the link
    as stored): what a stored session's moderation and upvotes may still name."""
    return {digest(["link", member.link]) for member in members if member.link} - {key}


def _type(config: ResourcesConfig, typed: str) -> str:
    chosen = " ".join(typed.split()).casefold()
    for label in config.types:
        if label.casefold() == chosen:
            return label
    raise ValueError(_("Choose the type of resource: {types}.").format(types=", ".join(config.types)))


def _upvotes(raw: list[str]) -> tuple[str, ...]:
    keys = sorted({key.strip() for key in raw if key.strip()})
    if any(not KEY.fullmatch(key) for key in keys):
        raise ValueError(_("Upvote resources from the list."))
    if len(keys) > MAX_UPVOTES:
        raise ValueError(_("Upvote at most {count} resources.").format(count=MAX_UPVOTES))
    return tuple(keys)


class ResourcesTally(Tally[ResourcesConfig, ResourcesSubmission]):
    submission_model = ResourcesSubmission

    def clear(self) -> None:
        # The merge is not local (a link-less title may join a linked resource): keep the answers, group on demand.
        self.answers: Counter[ResourcesSubmission] = Counter()

    def add(self, submission: ResourcesSubmission) -> None:
        self.answers[submission] += 1

    def retract(self, submission: ResourcesSubmission) -> None:
        self.answers[submission] -= 1
        if self.answers[submission] <= 0:
            del self.answers[submission]

    def groups(self) -> tuple[dict[str, list[ResourcesSubmission]], dict[str, str]]:
        """Suggestions grouped by resource key (with repeats, one per person), and each key's alias."""
        linked: dict[str, list[ResourcesSubmission]] = defaultdict(list)
        unlinked: dict[str, list[ResourcesSubmission]] = defaultdict(list)
        for submission, people in self.answers.items():
            if submission.title is None:
                continue
            target = linked if submission.link else unlinked
            target[identity_key(submission.link, submission.title)] += [submission] * people
        titles: dict[str, list[str]] = defaultdict(list)
        for key, members in linked.items():
            for folded in {member.title.casefold() for member in members if member.title}:
                titles[folded].append(key)
        alias: dict[str, str] = {key: key for key in linked}
        for key, members in linked.items():  # the keys links had before a trailing slash stopped counting
            alias.update({earlier: key for earlier in _earlier_keys(key, members)})
        for key, members in unlinked.items():
            folded = (members[0].title or "").casefold()
            candidates = titles.get(folded)
            if candidates:  # a link-less suggestion joins the biggest linked resource of the same title
                home = min(candidates, key=lambda candidate: (-len(linked[candidate]), candidate))
                linked[home] += members
                alias[key] = home
            else:
                alias[key] = key
                linked[key] = members
        return dict(linked), alias

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        """Resources by score (suggesters + upvoters) then title: the same whatever the fold order."""
        titles: Mapping[str, str] = moderation.get("titles", {})
        screening = Screening.of(moderation)
        groups, alias = self.groups()
        upvoters: Counter[str] = Counter()
        for submission, people in self.answers.items():
            own = alias.get(submission.own_key or "")
            for key in {alias.get(key) for key in submission.upvotes} - {None, own}:
                upvoters[str(key)] += people
        resources = [
            self._resource(key, members, upvoters[key], moderation, titles, screening)
            for key, members in groups.items()
        ]
        resources.sort(key=lambda item: (-item["score"], item["title"].casefold(), item["title"], item["key"]))
        visible = [item for item in resources if item["visible"]]
        return {
            "respondents": self.respondents,
            "moderated": self.config.moderated,
            "resources": resources,
            "visible": visible[:MAX_PROJECTED],
            "more": max(0, len(visible) - MAX_PROJECTED),
            "pending": sum(item["pending"] and not item["hidden"] for item in resources),
        }

    def _resource(
        self,
        key: str,
        members: list[ResourcesSubmission],
        upvotes: int,
        moderation: Mapping[str, Any],
        titles: Mapping[str, str],
        screening: Screening,
    ) -> dict[str, Any]:
        links = [member.link for member in members if member.link]
        notes = [member.note for member in members if member.note]
        link = most_common(Counter(links)) if links else None
        earlier = _earlier_keys(key, members)
        is_hidden, is_approved = moderated_as(moderation, key, earlier)
        pending = self.config.moderated and not is_approved
        # Held back when the text of any suggestion merged into it was flagged: the resource may show that text.
        filtered = screening.holds(key, *(member.own_key or "" for member in members))
        return {
            "key": key,
            "type": most_common(Counter(member.type or "" for member in members)),
            "title": next((titles[one] for one in (key, *sorted(earlier)) if one in titles), None)
            or most_common(Counter(member.title or "" for member in members)),
            "link": link,
            "host": link_host(link) if link else None,
            "note": most_common(Counter(notes)) if notes else None,
            "suggested_by": len(members),
            "upvotes": upvotes,
            "score": len(members) + upvotes,
            "approved": is_approved,
            "hidden": is_hidden,
            "pending": pending,
            "filtered": filtered,
            "visible": not is_hidden and not pending and not filtered,
        }


class Resources(ActivityKind[ResourcesConfig, ResourcesSubmission]):
    name = "resources"
    label = N_("Call for resources")
    description = N_("People suggest books, links and tools, and upvote each other's; kept in the institute's library.")
    config_model = ResourcesConfig
    submission_model = ResourcesSubmission
    tally_class = ResourcesTally
    answer_model = ResourcesAnswer
    moderation_model = ResourcesModeration
    results_model = ResourcesResults
    moderation_actions = frozenset({*VERBS, RETITLE})
    documents = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
    pool_label = N_("Resource library")
    participant_results = True  # phones list the visible resources to upvote them, pushed as the list moves

    def submission_from_form(self, config: ResourcesConfig, form: FormFields) -> dict[str, Any]:
        # Repeated text fields (a forged form) are joined, then held to the same limits as one.
        return {
            "type": " ".join(form.get("type", ())),
            "title": " ".join(form.get("title", ())),
            "link": " ".join(form.get("link", ())),
            "note": " ".join(form.get("note", ())),
            "upvotes": list(form.get("upvote", ())),
        }

    def moderate(self, moderation: dict[str, Any], action: str, form: FormFields) -> dict[str, Any]:
        if action not in self.moderation_actions:
            raise SubmissionInvalid("Choose approve, hide, show or retitle.")
        key = moderation_key(form, "answer", "resource", action)
        if action == RETITLE:
            return {**moderation, "titles": _retitled(dict(moderation.get("titles", {})), key, form)}
        if action == "show":
            return shown(moderation, key)
        name, present = VERBS[action]
        return toggled(moderation, name, key, present)

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {"line": "resource", "label": item["title"], "detail": item["link"] or "", "count": item["score"]}
            for item in snapshot.get("resources", [])
            if item["visible"]
        ]

    def export_rows(self, config: ResourcesConfig, submission: ResourcesSubmission) -> list[dict[str, Any]]:
        return [
            {
                "type": submission.type or "",
                "title": submission.title or "",
                "link": submission.link or "",
                "note": submission.note or "",
                "upvoted": " ".join(submission.upvotes),
            }
        ]

    def chart(self, config: ResourcesConfig, snapshot: Mapping[str, Any]) -> Chart | None:
        """The resources the room saw with the highest score (suggesters, then upvoters); None when none were."""
        shown = [item for item in snapshot["resources"] if item["visible"]]
        if not shown:
            return None
        rows = tuple(
            ChartRow(item["title"], (item["suggested_by"], item["upvotes"]), f"{item['score']}")
            for item in shown[:CHART_ROWS]
        )
        return Chart(rows, unit="people", series=("suggested it", "upvoted it"))

    def listing(self, config: ResourcesConfig, snapshot: Mapping[str, Any]) -> list[ListItem]:
        """Every resource the room saw (approved, not hidden), by score, with its link and note."""
        items = []
        for item in snapshot["resources"]:
            if item["visible"]:
                note = f"{item['type']}, suggested by {item['suggested_by']}, {item['upvotes']} upvotes"
                if item["note"]:
                    note += f": {item['note']}"
                items.append(ListItem(item["title"], note, item["link"]))
        return items

    def pool(self, sources: Sequence[PoolSource], cohorts: Sequence[PoolCohort], choice: str | None) -> Library:
        """Every cohort's calls for resources merged into one library (activities/resources/pool.py)."""
        return library(sources, cohorts, choice)

    def pool_table(self, pool: BaseModel) -> PoolTable:
        return library_table(Library.model_validate(pool))

    def pool_document(self, extension: str, institute: str, pool: BaseModel) -> str:
        found = Library.model_validate(pool)
        title = f"{institute}: resource library" + (f" ({found.type})" if found.type else "")
        return self.render_document(extension, title, as_results(found))

    def render_document(self, extension: str, title: str, snapshot: Mapping[str, Any]) -> str:
        """The resources the room may see (approved, not hidden), by score, as a Markdown or HTML list."""
        shown = [item for item in snapshot["resources"] if item["visible"]]
        if extension == "md":
            return _markdown(title, shown)
        if extension == "html":
            return _html(title, shown)
        raise KeyError(extension)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown(title: str, resources: list[dict[str, Any]]) -> str:
    lines = [f"# {_md(title)}", ""]
    for item in resources:
        link = str(item["link"] or "").replace("<", "%3C").replace(">", "%3E")
        name = f"[{_md(item['title'])}](<{link}>)" if link else _md(item["title"])
        line = f"- {name} ({_md(item['type'])}, suggested by {item['suggested_by']}, {item['upvotes']} upvotes)"
        if item["note"]:  # one line: a blank line in a note would end the list
            line += f": {_md(tidy(item['note']))}"
        lines.append(line)
    if not resources:
        lines.append("No resources were shared.")
    return "\n".join(lines) + "\n"


def _html(title: str, resources: list[dict[str, Any]]) -> str:
    escape = html.escape
    items = []
    for item in resources:
        name = escape(item["title"])
        if item["link"]:
            name = f'<a href="{escape(item["link"])}" rel="noopener noreferrer">{name}</a>'
        note = f"<br>{escape(item['note'])}".replace("\n", "<br>\n") if item["note"] else ""
        counts = f"{escape(item['type'])}, suggested by {item['suggested_by']}, {item['upvotes']} upvotes"
        items.append(f"  <li>{name} <small>({counts})</small>{note}</li>")
    body = "<ul>\n" + "\n".join(items) + "\n</ul>" if items else "<p>No resources were shared.</p>"
    return (
        f'<!doctype html>\n<html lang="en">\n<meta charset="utf-8">\n<title>{escape(title)}</title>\n'
        f"<h1>{escape(title)}</h1>\n{body}\n</html>\n"
    )


def _retitled(titles: dict[str, str], key: str, form: FormFields) -> dict[str, str]:
    """The display titles after a retitle: an empty title restores the suggested one."""
    title = tidy(" ".join(form.get("title", ())))
    if len(title) > MAX_TITLE:
        raise SubmissionInvalid(f"Keep the title to {MAX_TITLE} characters; it has {len(title)}.")
    titles.pop(key, None)
    if title:
        titles[key] = title
    return dict(sorted(titles.items()))


kind = Resources()
