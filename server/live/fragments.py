"""Rendering: the Jinja environment (kinds' templates first) and the fragments each audience is pushed."""

from __future__ import annotations

import hashlib
import itertools
from collections import ChainMap, Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import segno
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from activities import Registry
from activities.base import ActivityKind, KindConfig, Tally
from activities.i18n import N_, _, ngettext
from server import ROOT, __version__
from server.live.reactions import FLOATS_PER_PUSH, LANES, REACTIONS
from server.models import Activity, Pace, Role, Session
from server.names import NICKNAME_MAX, NICKNAME_MIN
from server.sessions import Named, SessionSnapshot, format_code, moderated_results, names_open, seconds_left
from server.standings import is_scored
from server.times import COMMON_ZONES, DEFAULT_ZONE
from server.web.critical import CRITICAL_CSS
from server.web.i18n import (
    catalogues,
    current_language,
    current_tag,
    format_day,
    format_moment,
    format_number,
    format_percent,
    here,
    local_decimals,
    speaking,
)

if TYPE_CHECKING:
    from server.live.connections import Audience
    from server.live.room import Room, Stage

TEMPLATES = ROOT / "client" / "templates"
STATIC = ROOT / "static"


@cache
def versioned_url(folder: Path, prefix: str, path: str) -> str:
    """The URL of a static file, named by a digest of its content: it may be cached for a year (a change makes a
    new URL). Read once per process, so a file edited while the server runs keeps its old digest until a restart."""
    digest = hashlib.sha256((folder / path).read_bytes()).hexdigest()[:12]
    return f"{prefix}/{path}?v={digest}"


def static_url(path: str) -> str:
    """The URL of a file in static/, with the digest of its content."""
    return versioned_url(STATIC, "/static", path)


KIND_STATIC = "/static/kinds"
"""Where each kind's static/ folder is served: `/static/kinds/<kind>/<file>`, with the cache rules of static/."""
BUNDLE_SUFFIXES = (".css", ".js")
BUNDLES_KEPT = 64  # bundles (a set of kinds, one suffix) kept built per process; any other is built when asked


@dataclass(frozen=True)
class KindBundle:
    """The `.css` or `.js` files of several kinds as one response: kinds in name order, each kind's files in path
    order, each part headed by a comment naming its kind and file. Its URL names the kinds and the digest of its
    content, so any worker can serve it without having rendered the page that links it."""

    kinds: tuple[str, ...]
    suffix: str
    content: bytes
    digest: str

    @property
    def url(self) -> str:
        return f"{KIND_STATIC}/bundle{self.suffix}?kinds={','.join(self.kinds)}&v={self.digest}"


class BundleUnknown(LookupError):
    """A bundle URL names no bundle this server can build; the message says why, for the 404."""


def kind_static_urls(registry: Registry, kinds: Iterable[str], suffix: str) -> list[str]:
    """The digest URLs of the `.css` or `.js` files (`suffix`) the named kinds ship, for a page where they appear:
    one file is linked as itself, several as one bundle (`kind_bundle`); unknown names and kinds without such files
    are skipped, so a page whose kinds ship none gets no URL."""
    shipping = tuple(name for name in sorted(set(kinds)) if name in registry and _kind_files(registry[name], suffix))
    files = [url for name in shipping for url in _kind_files(registry[name], suffix)]
    if len(files) <= 1:
        return files
    return [kind_bundle(registry, shipping, suffix).url]


def kind_bundle(registry: Registry, kinds: tuple[str, ...], suffix: str) -> KindBundle:
    """The bundle of these kinds' `suffix` files. Raises BundleUnknown for a suffix that is not bundled, a kind this
    server does not know or that ships no such file, or names out of order or repeated (a URL has one spelling)."""
    if suffix not in BUNDLE_SUFFIXES:
        raise BundleUnknown(f"Only {' and '.join(BUNDLE_SUFFIXES)} files are bundled.")
    malformed = BundleUnknown("Name the kinds once each, in name order, separated by commas.")
    if not kinds or not all(kinds):
        raise malformed
    for name in kinds:
        if name not in registry:
            raise BundleUnknown(f"There is no activity kind named {name!r}.")
        if not _kind_files(registry[name], suffix):
            raise BundleUnknown(f"The kind {name!r} has no {suffix} file.")
    if list(kinds) != sorted(set(kinds)):
        raise malformed
    return _bundle(tuple(registry[name] for name in kinds), suffix)


@lru_cache(maxsize=BUNDLES_KEPT)
def _bundle(kinds: tuple[ActivityKind[Any, Any], ...], suffix: str) -> KindBundle:
    parts = [part for kind in kinds for part in _kind_parts(kind, suffix)]
    content = b"".join(parts)
    digest = hashlib.sha256(content).hexdigest()[:12]
    return KindBundle(tuple(kind.name for kind in kinds), suffix, content, digest)


@cache
def _kind_parts(kind: ActivityKind[Any, Any], suffix: str) -> tuple[bytes, ...]:
    """Each of a kind's `suffix` files as a bundle's part: a comment naming the kind and file, then the file, ending
    with a line break. The kinds' scripts are each wrapped in their own function (tests/server/test_bundles.py
    checks), so one cannot see or break another's names when they are joined."""
    folder = kind.static_dir
    parts = []
    for path in _kind_paths(kind, suffix):
        name = path.relative_to(folder).as_posix()
        text = path.read_bytes().rstrip(b"\n") + b"\n"
        parts.append(f"/* kind {kind.name}: {name} */\n".encode() + text)
    return tuple(parts)


def _kind_paths(kind: ActivityKind[Any, Any], suffix: str) -> list[Path]:
    folder = kind.static_dir
    return sorted(folder.rglob(f"*{suffix}")) if folder.is_dir() else []


@cache
def _kind_files(kind: ActivityKind[Any, Any], suffix: str) -> tuple[str, ...]:
    """A kind's static files of one suffix as digest URLs, in path order: found once per process, not per page
    (every phone's join page asks)."""
    folder = kind.static_dir
    return tuple(
        versioned_url(folder, f"{KIND_STATIC}/{kind.name}", path.relative_to(folder).as_posix())
        for path in _kind_paths(kind, suffix)
    )


def make_environment(registry: Registry, time_zone: str = DEFAULT_ZONE) -> Environment:
    """Templates of every kind (`<kind>/...`) ahead of the client's, autoescaped, undefined names are errors.

    Numbers with a fraction are shown with the `decimals` filter, in the page's language ("2,5" in Spanish).
    Times are shown with the `local_time` filter (also named `format_moment`):
    `{{ moment | local_time(cohort.time_zone) }}` gives the local time with its zone's short name in the page's
    language (2017-04-24 09:12 MST, 24 abr 2017, 9:12 MST); without a zone, in `time_zone` (the server's default).
    `format_number`, `format_percent` and `format_day` format numbers, shares and calendar days for the language.

    Text is marked for translation with `_()` and `{% trans %}` (new-style gettext: `_("%(n)s left", n=n)`, the
    arguments escaped), in whatever language the request, socket or push is rendered in (server/web/i18n.py)."""
    loaders = [FileSystemLoader(kind.templates_dir) for kind in registry.all()]
    env = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(TEMPLATES)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        enable_async=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(_, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        version=__version__,
        static=static_url,
        critical_css=CRITICAL_CSS,  # the participant page's inlined stylesheet (server/web/critical.py)
        kind_styles=lambda kinds: kind_static_urls(registry, kinds, ".css"),
        kind_scripts=lambda kinds: kind_static_urls(registry, kinds, ".js"),
        # The kinds that offer an institute-wide pool, for the organizer's links to them: (kind, its pool's label).
        pools=[(kind.name, kind.pool_label) for kind in registry.all() if kind.pool_label is not None],
        format_code=format_code,
        seconds_left=seconds_left,
        reactions=REACTIONS,
        language=current_tag,
        here=here,  # the page the language switch comes back to
        role_name=role_name,
        languages=catalogues().languages,
        text_of=text_of,
        media_url=media_url,
        time_zones=COMMON_ZONES,
        default_time_zone=time_zone,
    )
    env.filters["decimals"] = local_decimals  # numbers with the page's decimal mark: {{ results.mean | decimals }}
    # Numbers, shares, days and moments for people, in the page's language (server/web/i18n.py):
    # {{ total | format_number }}, {{ share | format_percent(1) }}, {{ cohort.starts_on | format_day }}.
    env.filters["format_number"] = format_number
    env.filters["format_percent"] = format_percent
    env.filters["format_day"] = format_day
    env.filters["local_time"] = env.filters["format_moment"] = lambda moment, zone=None, with_zone=True: format_moment(
        moment, zone or time_zone, with_zone=with_zone
    )
    return env


# An account's role as the staff pages name it, in the page's language.
ROLE_NAMES = {Role.presenter: N_("presenter"), Role.organizer: N_("organizer"), Role.admin: N_("admin")}


def role_name(role: str) -> str:
    """A role's name in the language being rendered ("organizador"); an unknown one as it is stored."""
    name = ROLE_NAMES.get(Role(role)) if role in Role.__members__ else None
    return _(name) if name else role


def media_url(name: str) -> str:
    """Where an uploaded image is served (activities/images.py): by its content-hash name, cached for good."""
    return f"/media/{name}"


def deck_texts(activity: Activity) -> dict[str, Any]:
    """The activity's texts the deck gives in the language being rendered (by its primary language when the deck
    names no region: an es-MX phone reads `es`); empty when the deck gives none, so its own texts show."""
    texts: dict[str, Any] = activity.texts or {}
    language = current_language()
    return texts.get(language) or texts.get(language.split("_", 1)[0]) or {}


def text_of(activity: Activity, field: str) -> str:
    """An activity's title or prompt in the language being rendered, as the deck gives it (server/decks.py)."""
    return str(deck_texts(activity).get(field, getattr(activity, field)))


def in_language(activity: Activity, config: KindConfig) -> KindConfig:
    """A kind's config with its translatable labels in the language being rendered: the one place a kind's
    templates get their deck text from, so no kind knows about languages. Items keep their order and number."""
    labels = {key: value for key, value in deck_texts(activity).items() if key not in ("title", "prompt")}
    return config.model_copy(update=labels) if labels else config


def qr_svg(url: str) -> str:
    """A QR code of a URL as inline SVG markup (no external request, scales with CSS)."""
    return str(segno.make(url, error="m").svg_inline(scale=1, border=2, dark="#000", light="#fff", omitsize=True))


class Views:
    """The HTML of each audience's live areas, rendered from a room."""

    def __init__(self, env: Environment, registry: Registry) -> None:
        self.env = env
        self.registry = registry
        self._lanes = itertools.cycle(range(LANES))

    def render(self, name: str, **context: Any) -> str:
        return self.template(name).render(**context)

    def template(self, name: str) -> Template:
        """A template by name, with its globals as one plain dict. Jinja holds a template's globals as a ChainMap over
        the environment's, and every render copies it key by key into the render's context: 17-18 µs of a 35-80 µs
        fragment (the presenter's counts, a poll's bars), rendered for every room at every push. The environment's
        globals are all set in make_environment, before any render; a template reloaded from disk is flattened
        again at its first render."""
        template = self.env.get_template(name)
        if type(template.globals) is ChainMap:
            template.globals = dict(template.globals)
        return template

    def activity_context(self, room: Room, activity: Activity, audience: Audience | str) -> dict[str, Any]:
        """What a kind's template gets for one activity, as this audience may see it."""
        assert activity.id is not None
        session = room.snapshot.session
        base = f"/present/{session.id}" if audience == "presenter" else f"/projector/{session.projector_secret}"
        config = in_language(activity, room.snapshot.configs[activity.id])
        scored = activity.revealed and is_scored(self.registry, activity, room.tallies)
        leaders = self.leaders(room) if scored else []
        return {
            "activity": activity,
            "config": config,
            "results": room.results(activity, config),
            "results_visible": room.snapshot.results_visible(activity),
            "audience": str(audience),
            "asset_base": f"{base}/activities/{activity.id}",
            "control_url": f"/present/{session.id}/control",
            "standings": leaders,
            "standings_final": bool(leaders) and room.standings_final(),
            "team_standings": self.team_leaders(room) if leaders else [],
        }

    def leaders(self, room: Room) -> list[dict[str, Any]]:
        """The top of the session's standings (LEADERS, and everyone tied with the last), for a revealed activity of
        a scoring kind: rank, points, `name` (the nickname the phone chose, else its generated name in the language
        being rendered: server/names.py), `team` (empty: none) and `number` (the place in the order of joining)."""
        board = room.standings()
        top = board.top(LEADERS)
        order = {pid: n for n, pid in enumerate(sorted(room.participants.values()), start=1)}
        return [
            {
                "rank": row.rank,
                "position": position,
                "points": row.points,
                "number": order.get(row.participant_id, 0),
                "name": room.name_of(row.participant_id),
                "team": room.team_of(row.participant_id),
                "people": board.people,
            }
            for position, row in enumerate(top, start=1)
        ]

    def team_leaders(self, room: Room) -> list[dict[str, Any]]:
        """The teams' standings (all of them: a session has at most 12 teams): team, rank, points (the mean of its
        ranked members' totals) and members; empty when the session has no teams."""
        return [
            {"team": row.team, "rank": row.rank, "points": row.points, "members": row.members}
            for row in room.team_standings()
        ]

    def participant_stage(
        self,
        room: Room,
        stage: Stage,
        *,
        error: str | None = None,
        csrf: str | None = None,
        named: Named | None = None,
    ) -> str:
        """The participant's `#stage`: an activity's form (with their answer), or a plain state, or the form for a
        name and team (`stage.naming`; `named`: what this phone chose already, to change it).

        `csrf`: the browser's CSRF token, for forms that post without JavaScript; pushed stages are shared by many
        phones and go without (they answer over the socket, or handsup.js adds the page's token before posting)."""
        activity = stage.activity
        snapshot = room.snapshot
        # A kind that lists the room's entries on the phone gets the results, never the room; other kinds get none
        # (participants are not sent the room's answers, and every phone's stage would compute them).
        lists = activity is not None and self.registry[activity.kind].participant_results
        results = room.results(activity) if lists and activity is not None and activity.id in room.tallies else None
        # A sharing kind's list goes beside its form; a listing kind's list is part of its form (its participant.html).
        kind_shares = activity is not None and self.registry[activity.kind].shares_results
        return self.render(
            "participant/stage.html",
            snapshot=snapshot,
            results=results,
            respond_url=f"/{snapshot.session.code}/respond",
            session=snapshot.session,
            stage=stage,
            activity=activity,
            config=in_language(activity, snapshot.configs[activity.id]) if activity and activity.id else None,
            answer=stage.answer,
            standing=stage.standing,
            ranked=stage.ranked,
            standings_final=stage.standing is not None and room.standings_final(),
            team_standing=stage.team_standing,
            teams_ranked=stage.teams_ranked,
            naming=self._naming(room, stage, named),
            names_open=names_open(snapshot, self.registry),
            kind=self.registry[activity.kind] if activity is not None else None,
            shared=self.shared(room, activity, stage.answer, csrf=csrf) if activity and kind_shares else "",
            error=error,
            csrf=csrf,
        )

    def _naming(self, room: Room, stage: Stage, named: Named | None) -> dict[str, Any] | None:
        """What the form for a name and team shows (None when the stage is no such form)."""
        if not stage.naming:
            return None
        session = room.snapshot.session
        return {
            "url": f"/{session.code}/name",
            "nicknames": session.nicknames,
            "teams": session.teams,
            "nickname": named.nickname if named is not None else "",
            "team": named.team if named is not None else "",
            "open": names_open(room.snapshot, self.registry),
            "limits": (NICKNAME_MIN, NICKNAME_MAX),
        }

    def participant_status(self, room: Room, activity: Activity, answer: Any = None, *, error: str | None) -> str:
        """The reply to an answer: its status line ('received', or what to fix) and, for a kind that shares its
        results or lists the room's entries, the participant's own marks on the pushed list."""
        kind = self.registry[activity.kind]
        shares = kind.shares_results
        own = ""
        if error is None and (shares or kind.participant_results):
            own = self.render(f"{activity.kind}/own.html", **self._shared_context(room, activity, answer))
        elif error is None:
            # Every phone's "Received" to this activity is the same HTML while the session's state stays: rendered
            # once per state, language and open or closed (the activity may be a snapshot older than the room's).
            key = ("reply", activity.id, activity.voting_open, current_language())
            return room.rendered(key, lambda: self._reply(activity, None, shares, own))
        return self._reply(activity, error, shares, own)

    def _reply(self, activity: Activity, error: str | None, shares: bool, own: str) -> str:
        return self.render(
            "participant/reply.html", activity=activity, error=error, received=error is None, own=own, shares=shares
        )

    def pushes_list(self, activity: Activity) -> bool:
        """Whether phones showing the activity are pushed its kind's list (`<kind>/shared.html`) as its results
        move: a sharing kind's (Q&A questions, beside its form) or a listing kind's (resources to upvote, in it)."""
        kind = self.registry[activity.kind]
        return kind.shares_results or kind.participant_results

    def shared(self, room: Room, activity: Activity, answer: Any = None, *, csrf: str | None = None) -> str:
        """A sharing (or listing) kind's live list for participants (`<kind>/shared.html`); empty for other kinds."""
        if not self.pushes_list(activity):
            return ""
        return self.render(f"{activity.kind}/shared.html", **self._shared_context(room, activity, answer), csrf=csrf)

    def _shared_context(self, room: Room, activity: Activity, answer: Any) -> dict[str, Any]:
        assert activity.id is not None
        return {
            "activity": activity,
            "respond_url": f"/{room.snapshot.session.code}/respond",
            "config": room.snapshot.configs[activity.id],
            "results": room.results(activity),
            "answer": answer,
        }

    def completion(self, room: Room, audience: Audience | str = "presenter") -> str:
        """At the audience's pace: how far people have got, per activity (presenter) or overall (projector)."""
        return self.render(f"{audience}/completion.html", room=room, snapshot=room.snapshot)

    def joined(self, room: Room) -> str:
        """The projector lobby's count of who has joined (`#joined-count`)."""
        return self.render("projector/joined.html", room=room)

    def floating_reactions(self, floating: Counter[str]) -> str:
        """Reactions for the projector to float up: a few of each (the rest only count), in rotating lanes."""
        items = [
            (name, next(self._lanes))
            for name, count in sorted(floating.items())
            for _ in range(min(count, FLOATS_PER_PUSH))
        ]
        return self.render("projector/reactions.html", items=items)

    def presenter_live(self, room: Room) -> str:
        return self.render("presenter/live.html", room=room, views=self, snapshot=room.snapshot)

    def remote_live(self, room: Room) -> str:
        """The presenter's remote (a phone): where the session is, its controls and notes; after the end, the
        archive, the report, the results and "start again"."""
        return self.render("presenter/remote_live.html", room=room, views=self, snapshot=room.snapshot)

    def read_only_results(self, room: Room, activity: Activity) -> str:
        """An activity's results as the room sees them once shown: the kind's projector template, without the
        presenter's moderation controls (an ended session's pages), its pictures served from the presenter's URLs."""
        context = self.activity_context(room, activity, "presenter")
        return self.render(
            f"{activity.kind}/projector.html", **{**context, "audience": "projector", "results_visible": True}
        )

    def projector_stage(self, room: Room) -> str:
        return self.render("projector/stage.html", room=room, views=self, snapshot=room.snapshot)

    def results(self, room: Room, activity: Activity, audience: Audience) -> str:
        """An activity's `#results-<id>` for one audience; the room sees a count only until results are shown (a kind
        that takes no answers, a content slide, has no results to hold back: it is always shown)."""
        context = self.activity_context(room, activity, audience)
        hidden = not context["results_visible"] and activity.id not in room.snapshot.answerless
        if audience == "projector" and hidden:
            return self.render("projector/hidden.html", **context)
        return self.render(f"{activity.kind}/{audience}.html", **context)

    def counts(self, room: Room) -> str:
        current = room.snapshot.current
        responded = room.respondents(current) if current is not None else 0
        return self.render("presenter/counts.html", room=room, responded=responded, current=current)


LEADERS = 10
"""How many of the standings the room is shown (more when tied with the last)."""

PREVIEW_CODE = "000000"
"""The join code previews show: no live session has it while a preview is rendered, and none is ever created."""


@dataclass
class PreviewRoom:
    """A room of one activity that nobody has joined or answered yet: what the deck editor's previews render from.

    It holds what templates and Views read of a live Room (the snapshot, empty tallies, results, counts) and nothing
    else: no session is stored, no socket opened, no live room touched."""

    snapshot: SessionSnapshot
    tallies: dict[int, Tally[Any, Any]] = field(default_factory=dict)
    participants: dict[str, int] = field(default_factory=dict)

    def results(self, activity: Activity, config: KindConfig | None = None) -> dict[str, Any]:
        assert activity.id is not None
        tally = self.tallies[activity.id]
        if config is not None and config is not tally.config:
            tally = type(tally)(config)
        return moderated_results(tally, activity.moderation)

    def respondents(self, activity: Activity) -> int:
        return 0

    def finished(self) -> int:
        return 0


def preview_room(registry: Registry, activity: Activity, *, title: str, pace: Pace) -> PreviewRoom:
    """A transient session showing `activity` (which must carry an id) as its current one, voting open."""
    assert activity.id is not None
    kind = registry[activity.kind]
    config = kind.parse_config(activity.config)
    session = Session(
        id=0,
        code=PREVIEW_CODE,
        title=title,
        presenter_id=0,
        pace=pace,
        current_activity_id=activity.id,
        projector_secret="preview",
    )
    snapshot = SessionSnapshot(
        session=session,
        activities=[activity],
        configs={activity.id: config},
        ambient=frozenset({activity.id}) if kind.ambient else frozenset(),
        screened=frozenset({activity.id}) if kind.takes_free_text else frozenset(),
        answerless=frozenset() if kind.takes_answers else frozenset({activity.id}),
    )
    return PreviewRoom(snapshot, {activity.id: kind.new_tally(config)})


def preview_pages(views: Views, room: PreviewRoom, *, language: str, join_url: str) -> tuple[str, str]:
    """The whole phone page and projector page of a preview room's activity, in `language`, as they would first be
    served: the same templates and environment as live pages, without their scripts (an iframe's srcdoc shows them)."""
    from server.live.room import Stage

    activity = room.snapshot.activities[0]
    live = cast("Room", room)  # a PreviewRoom has every part of a Room that Views and the templates read
    kinds = {activity.kind}
    with speaking(language):
        stage = Stage(key="preview", activity=activity, answer=None, answered=frozenset())
        phone = views.render(
            "editor/preview_phone.html",
            kinds=kinds,
            refresh_seconds=None,
            session=room.snapshot.session,
            stage_key=stage.key,
            at=None,
            stage=views.participant_stage(live, stage),
            join_url=join_url,
            csrf="",
        )
        projector = views.render(
            "editor/preview_projector.html",
            kinds=kinds,
            session=room.snapshot.session,
            stage=views.projector_stage(live),
            join_url=join_url,
            qr=_preview_qr(join_url),
            contrast="standard",
        )
    return phone, projector


@cache
def _preview_qr(join_url: str) -> str:
    """The QR code previews show: one join URL per server, drawn once (it was half of a preview's time)."""
    return qr_svg(join_url)
