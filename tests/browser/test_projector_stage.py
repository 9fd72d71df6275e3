"""The projector is a stage, not a page: every kind, every state, the lobby and the farewell are laid out inside the
window at 4:3, 720p, 1080p and 4K and in a window resized live. Checked by measuring the page's boxes: the document
never scrolls, everything shown lies inside the window and inside its box on the stage (nothing cut), the elements
the room reads do not overlap, and no text is under the floor (handsup.css: 1/40 of the height of the 16:9 picture
that fits the window, at least 18 px; docs/accessibility.md says why)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LiveDeck, PageErrors, live_deck, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser

SIZES = {"4:3": (1024, 768), "720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}

# A deck that pushes the stage to its limits: long titles, a poll of 20 long options, many words, answers, questions
# and resources, and a content slide at the body's length limit.
POINTS = range(1, 29)  # 28 points: the body comes to about 4,700 characters, near its 5,000 limit
LONG = "Leading a school improvement team through a year of change, with everyone's time and trust on the line"
STRESS = f"""\
title: "{LONG}"
activities:
  - kind: wordcloud
    title: Many words
    prompt: Three words each, all different.
    entries: 3
  - kind: poll
    title: "A poll of twenty long options, each of them as long as a deck allows it to be"
    prompt: "{LONG}?"
    options:
{"".join(f'      - "Option {n}: {LONG[: 60 + 3 * n]}"' + chr(10) for n in range(1, 21))}
  - kind: open
    title: Many long answers
    prompt: What would you change first?
    max_length: 280
    moderated: false
  - kind: qa
    title: Many questions
    moderated: false
  - kind: resources
    title: Many resources
    moderated: false
  - kind: grid
    title: Twelve roles on two axes
    prompt: "{LONG}?"
    items:
{"".join(f'      - "Role {n}: {LONG[: 35 + n]}"' + chr(10) for n in range(1, 13))}
    quadrants: ["Authority, no influence", Influence and authority, Neither of the two, "Influence, no authority"]
  - kind: slide
    title: A long slide body
    layout: text
    body: |
{"".join(f"      - **Point {n}.** {LONG}: what we learned, what we keep, what we change.{chr(10)}" for n in POINTS)}
"""
PEOPLE = 24  # participants who answer the stress deck (the example deck's activities take 4)


def join(url: str, code: str, count: int) -> list[str]:
    """`count` phones join through the JSON API; their participant tokens."""
    with httpx.Client(base_url=url) as anonymous:
        return [anonymous.post("/api/v1/join", json={"code": code}).json()["participant_token"] for _ in range(count)]


def answer(url: str, activity: dict[str, Any], answers: list[tuple[str, dict[str, Any]]]) -> None:
    """Each (token, answer) through the JSON API, a few at a time (as phones would)."""

    def one(pair: tuple[str, dict[str, Any]]) -> None:
        token, fields = pair
        with httpx.Client(base_url=url) as phone:
            response = phone.post(
                "/api/v1/responses",
                json={"activity_id": activity["id"], "answer": fields},
                headers={"X-Participant-Token": token},
            )
        assert response.status_code == 201, response.text

    with ThreadPoolExecutor(len(answers) or 1) as pool:
        list(pool.map(one, answers))


def control(deck: LiveDeck, action: str, activity: dict[str, Any] | None = None, **fields: Any) -> None:
    """A presenter's control through the JSON API, with the fields some actions take (pace, countdown seconds)."""
    body = {"action": action, "activity_id": activity["id"] if activity else None, "fields": fields.get("fields", {})}
    response = deck.api.post(f"/api/v1/sessions/{deck.session['id']}/control", json=body)
    assert response.status_code == 200, response.text


def by_title(deck: LiveDeck, title: str) -> dict[str, Any]:
    return next(a for a in deck.session["activities"] if a["title"] == title)


def example_answers(kind: str, index: int) -> dict[str, Any]:
    """One plausible answer of each kind of the example deck, varied by `index`."""
    words = ["trust", "listening", "example", "vision", "equity", "coaching", "courage", "curiosity", "time"]
    answers: dict[str, Callable[[], dict[str, Any]]] = {
        "wordcloud": lambda: {"word": [words[(index + k) % len(words)] for k in range(3)]},
        "poll": lambda: {"choice": [str(index % 3)]},
        "sort": lambda: {f"card-{c}": str((c + index) % 2) for c in range(8)},
        "points": lambda: {"item-0": str(20 + 10 * index), "item-1": str(50 - 10 * index), "item-2": "30"},
        "scale": lambda: {f"statement-{s}": str(1 + (s + index) % 5) for s in range(5)},
        "ranking": lambda: {f"rank-{r}": str(1 + (r + index) % 4) for r in range(4)},
        "resources": lambda: {
            "type": "Tool",
            "title": f"Leadership toolkit {index}",
            "link": f"https://example.org/{index}",
        },
        "open": lambda: {"text": f"Talking about who decides what, and why ({index})"},
        "qa": lambda: {"question": f"How do we keep the improvement going after the institute? ({index})"},
    }
    return answers[kind]()


def stress_answers(kind: str, index: int) -> dict[str, Any]:
    answers: dict[str, Callable[[], dict[str, Any]]] = {
        "wordcloud": lambda: {"word": [f"word{index}a", f"idea{index}b", f"thing{index}c"]},
        "poll": lambda: {"choice": [str(index % 20)]},
        "open": lambda: {"text": f"Answer {index}: {LONG}, and a little more so that it runs to several lines."},
        "qa": lambda: {"question": f"Question {index}: {LONG}, how do we start?"},
        "grid": lambda: {
            **{f"item-{i}-x": str((3 * i + index) % 11) for i in range(12)},
            **{f"item-{i}-y": str((5 * i + 2 * index) % 11) for i in range(12)},
        },
        "resources": lambda: {
            "type": "Video",
            "title": f"Resource {index}: {LONG[:80]}",
            "link": f"https://example.org/r{index}",
        },
    }
    return answers[kind]()


ENDED = """\
title: Over
activities:
  - kind: poll
    title: Done yet
    options: [Yes, No]
"""


def another(deck: LiveDeck, start: dict[str, Any]) -> LiveDeck:
    """One more session started by the same presenter (one API token for them all)."""
    response = deck.api.post("/api/v1/sessions", json=start)
    assert response.status_code == 201, response.text
    return LiveDeck(deck.api, response.json())


@dataclass
class Stage:
    """The sessions the projectors show: the example deck answered, the stress deck answered, one left in its lobby
    (people joined), one at the audience's pace, and one that has ended."""

    server: LiveServer
    example: LiveDeck
    stress: LiveDeck
    lobby: LiveDeck
    paced: LiveDeck
    ended: LiveDeck
    lobby_joined: int = 12


# The example deck's activities the scenes show with answers (its open answers, resources and questions wait for
# the presenter's approval, so the projector shows none of them whatever is sent).
ANSWERED = {"wordcloud", "poll", "sort", "points", "scale", "ranking"}


def seed_example(deck: LiveDeck) -> None:
    people = join(str(deck.api.base_url), deck.code, 4)
    for activity in deck.session["activities"][:12]:
        if activity["kind"] in ANSWERED:
            deck.goto(activity["position"])
            answer(
                str(deck.api.base_url),
                activity,
                [(t, example_answers(activity["kind"], i)) for i, t in enumerate(people)],
            )


def seed_stress(deck: LiveDeck) -> None:
    crowd = join(str(deck.api.base_url), deck.code, PEOPLE)
    for activity in deck.session["activities"]:
        if activity["kind"] != "slide":
            deck.goto(activity["position"])
            answer(
                str(deck.api.base_url),
                activity,
                [(t, stress_answers(activity["kind"], i)) for i, t in enumerate(crowd)],
            )


@pytest.fixture(scope="module")
def stage(live_server: LiveServer) -> Iterator[Stage]:
    with live_deck(live_server, {"deck_slug": "distributed-leadership"}) as example:
        stress = another(example, {"deck_yaml": STRESS})
        lobby = another(example, {"deck_slug": "distributed-leadership"})
        paced = another(example, {"deck_slug": "distributed-leadership"})
        ended = another(example, {"deck_yaml": ENDED})
        with ThreadPoolExecutor(2) as pool:  # the two decks' answers at once: they are separate sessions
            list(pool.map(lambda seed: seed(), [lambda: seed_example(example), lambda: seed_stress(stress)]))
        join(live_server.url, lobby.code, 12)
        control(paced, "pace", fields={"pace": "audience"})
        for token in join(live_server.url, paced.code, 5)[:2]:  # two of five have finished the first activity
            answer(live_server.url, paced.session["activities"][0], [(token, example_answers("wordcloud", 0))])
        ended.control("end", ended.session["activities"][0])
        yield Stage(live_server, example, stress, lobby, paced, ended)


# What is wrong with the stage as shown, measured in the page: the document scrolls; something shown lies outside the
# window, or outside its box on the stage (cut); two things the room reads overlap; text under the floor; something
# the scene needs is not shown. Returns the problems and the boxes of a few elements for the scenes' own checks.
MEASURE = """needed => {
  const W = innerWidth, H = innerHeight, problems = [], root = document.documentElement;
  const floor = parseFloat(getComputedStyle(document.body).getPropertyValue("--floor"));
  if (root.scrollWidth > W || root.scrollHeight > H)
    problems.push(`the page scrolls: ${root.scrollWidth}x${root.scrollHeight}`);
  const name = el => el.tagName.toLowerCase() + [...el.classList].map(c => "." + c).join("") +
    ` "${el.textContent.trim().replace(/\\s+/g, " ").slice(0, 40)}"`;
  const inSvg = el => el.tagName.toLowerCase() !== "svg" && el.closest("svg");
  const shown = el => el.checkVisibility() && !el.closest("#reactions, .visually-hidden") && !inSvg(el) &&
    el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0;
  const outside = (r, box, slack) => r.left < box.left - slack || r.top < box.top - slack ||
    r.right > box.right + slack || r.bottom > box.bottom + slack;
  const screen = {left: 0, top: 0, right: W, bottom: H};
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    const at = [r.left, r.top, r.right, r.bottom].map(Math.round).join(",");
    if (outside(r, screen, 0.5)) problems.push(`outside the window: ${name(el)} at ${at}`);
    const box = el.parentElement.closest(".projected, .lobby, .farewell");
    if (box && outside(r, box.getBoundingClientRect(), 0.5)) problems.push(`cut at the edge of its box: ${name(el)}`);
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (text && size < floor - 0.05)
      problems.push(`text of ${size.toFixed(1)} px under the ${floor.toFixed(1)} px floor: ${name(el)}`);
  }
  const READ = [".join-line", ".join-banner .code", ".small-qr svg", ".projector-title", ".prompt", ".cloud-image",
    ".top-words", ".bars", ".cards", ".slide-body", ".lobby h1", ".lobby .code", ".joined-count", ".lobby-qr svg",
    ".countdown", ".closed-note", ".respondents", ".waiting-count", ".completion-projector", ".projector-foot"];
  const read = READ.flatMap(s => [...document.querySelectorAll(s)]).filter(shown);
  for (let i = 0; i < read.length; i++) for (let j = i + 1; j < read.length; j++) {
    const a = read[i].getBoundingClientRect(), b = read[j].getBoundingClientRect();
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 1 && !read[i].contains(read[j]) && !read[j].contains(read[i]))
      problems.push(`overlap: ${name(read[i])} and ${name(read[j])}`);
  }
  for (const s of needed) if (![...document.querySelectorAll(s)].some(shown)) problems.push(`not shown: ${s}`);
  const box = s => { const el = document.querySelector(s); if (!el || !shown(el)) return null;
    const r = el.getBoundingClientRect(); return {width: r.width, height: r.height}; };
  return {problems, floor, qr: box(".lobby-qr svg"), cloud: box(".cloud-image")};
}"""


@dataclass
class Scene:
    """One state of the projector: how to get there, what must be shown, what to wait for."""

    name: str
    deck: Callable[[Stage], LiveDeck]
    setup: Callable[[Stage], None]
    wait: str  # a selector shown once the state has arrived
    needed: tuple[str, ...] = ()
    text: str | None = None  # ... with this text


def go(title: str, deck: str = "example") -> Callable[[Stage], None]:
    def setup(stage: Stage) -> None:
        live: LiveDeck = getattr(stage, deck)
        live.goto(by_title(live, title)["position"])

    return setup


def example(name: str, title: str, *needed: str) -> Scene:
    return Scene(name, lambda s: s.example, go(title), ".projector-title", needed, title)


def stress(name: str, title: str, *needed: str) -> Scene:
    return Scene(name, lambda s: s.stress, go(title, "stress"), ".projector-title", needed, title)


def side_by_side(stage: Stage) -> None:
    go("Understanding influence vs. authority")(stage)
    control(stage.example, "beside", by_title(stage.example, "Understanding authority"))


def grid_clouds(stage: Stage) -> None:
    grid = by_title(stage.stress, "Twelve roles on two axes")
    go(grid["title"], "stress")(stage)
    control(stage.stress, "moderate", grid, fields={"verb": "show-cloud", "item": "all"})


def countdown(stage: Stage) -> None:
    go("How do school leaders spend their time?")(stage)
    control(
        stage.example,
        "countdown",
        by_title(stage.example, "How do school leaders spend their time?"),
        fields={"seconds": "600"},
    )


def closed(stage: Stage) -> None:
    poll = by_title(stage.example, "Where does your team's time go?")
    go(poll["title"])(stage)
    control(stage.example, "close", poll)


def reopen(stage: Stage) -> None:
    control(stage.example, "open", by_title(stage.example, "Where does your team's time go?"))


BARS = (".bars", ".respondents")
SCENES = [
    Scene(
        "lobby",
        lambda s: s.lobby,
        lambda s: None,
        ".joined-count",
        (".lobby h1", ".lobby .code", ".lobby-qr svg", ".join-line", ".join-banner .code"),
        "12 people joined",
    ),
    Scene("paced", lambda s: s.paced, lambda s: None, ".completion-count", (".completion-projector", ".lobby .code")),
    example("wordcloud", "Understanding leadership practice", ".cloud-image", ".top-words"),
    example("poll", "How do school leaders spend their time?", *BARS),
    example("poll-long-options", "Our theory of change", *BARS),
    example("hidden-results", "Managing the risks", ".waiting-count"),
    example("sort", "Influence or authority?", *BARS),
    example("points", "Where does your team's time go?", *BARS),
    example("scale", "Skills distributed leadership requires", ".cards"),
    example("ranking", "Managing the risks: which first?", *BARS),
    example("resources", "Call for resources", ".respondents"),
    example("open", "A first step", ".respondents"),
    example("qa", "Questions for the panel", ".respondents"),
    example("slide", "Where the institute goes next", ".slide-body"),
    Scene("side-by-side", lambda s: s.example, side_by_side, ".side-by-side", (".cloud-image",)),
    Scene("countdown", lambda s: s.example, countdown, ".countdown", BARS),
    Scene("closed", lambda s: s.example, closed, ".closed-note", BARS),
    stress("many-words", "Many words", ".cloud-image", ".top-words"),
    stress("poll-20-options", "A poll of twenty long options, each of them as long as a deck allows it to be", ".bars"),
    stress("many-answers", "Many long answers", ".cards"),
    stress("many-questions", "Many questions", ".cards"),
    stress("many-resources", "Many resources", ".cards"),
    stress("grid-12-items", "Twelve roles on two axes", ".grid-plot", *BARS),
    Scene("grid-clouds", lambda s: s.stress, grid_clouds, ".grid-cloud", (".grid-plot", *BARS)),
    stress("long-slide", "A long slide body", ".slide-body"),
    Scene("farewell", lambda s: s.ended, lambda s: None, ".farewell", (".farewell h1", ".join-line")),
]
SHOOT = {
    "720p": {scene.name for scene in SCENES},
    "4:3": {"lobby", "wordcloud", "poll-20-options", "many-answers", "grid-clouds"},
    "1080p": {"lobby", "side-by-side", "long-slide"},
    "4k": {"lobby", "wordcloud"},
}


def settled(page: Page) -> None:
    """Two animation frames: the fit step (run after a push, or on a resize in the next frame) has laid out."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def problems_of(page: Page, scene: Scene, where: str) -> list[str]:
    found = page.evaluate(MEASURE, list(scene.needed))
    problems = [f"{where} {scene.name}: {problem}" for problem in found["problems"]]
    width, height = page.viewport_size["width"], page.viewport_size["height"]  # type: ignore[index]
    # The lobby's QR code takes most of the height left under the banner; the word cloud at least a third of it.
    if scene.name == "lobby" and (found["qr"] is None or min(found["qr"].values()) < 0.45 * min(width / 2, height)):
        problems.append(f"{where} lobby: the QR code is small: {found['qr']}")
    if scene.name in ("wordcloud", "many-words") and (found["cloud"] is None or found["cloud"]["height"] < height / 3):
        problems.append(f"{where} {scene.name}: the word cloud is small: {found['cloud']}")
    return problems


CLOUDS_SHOWN = """() => [...document.querySelectorAll(".cloud-image")].every(
  img => img.complete && img.naturalWidth && getComputedStyle(img).opacity === "1")"""


def present(page: Page, stage: Stage, scene: Scene) -> None:
    scene.setup(stage)
    deck = scene.deck(stage)
    if page.url != str(deck.session["projector_url"]):
        page.goto(str(deck.session["projector_url"]))
    arrived = page.locator(scene.wait).first
    expect(arrived).to_be_visible()
    if scene.text is not None:
        expect(page.locator(scene.wait).first).to_contain_text(scene.text)
    if ".cloud-image" in scene.needed:  # every picture loaded and faded in (0.3 s)
        page.wait_for_function(CLOUDS_SHOWN)
    settled(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_state_of_the_projector_fits_the_window(
    size: str, browser: Browser, stage: Stage, page_errors: PageErrors
) -> None:
    width, height = SIZES[size]
    page = page_errors.watch(browser.new_context(viewport={"width": width, "height": height}).new_page(), size)
    problems: list[str] = []
    try:
        for scene in SCENES:
            present(page, stage, scene)
            problems += problems_of(page, scene, size)
            if scene.name in SHOOT[size]:
                screenshot(page, f"stage-{size.replace(':', 'x')}-{scene.name}", full_page=False)
            if scene.name == "closed":
                reopen(stage)
            if scene.name == "side-by-side":
                control(stage.example, "beside")  # shown alone again
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)
    assert page_errors.errors == []


def test_the_lobby_counts_phones_as_they_join_and_a_resized_window_fits_again(
    browser: Browser, stage: Stage, page_errors: PageErrors
) -> None:
    page = page_errors.watch(browser.new_context(viewport={"width": 1280, "height": 720}).new_page(), "projector")
    page.goto(str(stage.lobby.session["projector_url"]) + "?contrast=high")
    count = page.locator("#joined-count")
    expect(count).to_have_text(f"{stage.lobby_joined} people joined")
    join(stage.server.url, stage.lobby.code, 3)  # three more phones, no reload
    stage.lobby_joined += 3
    expect(count).to_have_text(f"{stage.lobby_joined} people joined")
    lobby = replace(SCENES[0], text=f"{stage.lobby_joined} people joined")
    problems = problems_of(page, lobby, "high contrast")
    screenshot(page, "stage-high-contrast-lobby", full_page=False)

    # The presenter moves on while the window is dragged and resized: each size fits again, without a reload.
    cloud = SCENES[2]
    present(page, stage, cloud)
    for width, height in [(1280, 720), (1024, 768), (800, 600), (1920, 1080), (1440, 900), (1280, 720)]:
        page.set_viewport_size({"width": width, "height": height})
        settled(page)
        problems += problems_of(page, cloud, f"resized to {width}x{height}")
    many = next(scene for scene in SCENES if scene.name == "many-answers")
    present(page, stage, many)
    for width, height in [(1920, 1080), (1024, 768), (1280, 720)]:
        page.set_viewport_size({"width": width, "height": height})
        settled(page)
        problems += problems_of(page, many, f"resized to {width}x{height}")
    page.context.close()
    assert not problems, "\n".join(problems)
    assert page_errors.errors == []


def test_without_javascript_the_stage_still_fits_the_window(browser: Browser, stage: Stage) -> None:
    """No script runs (no fit step, no socket): the same layout holds, and a list too long for the screen is cut
    at the stage's edge, never scrolled."""
    page = browser.new_context(viewport={"width": 1280, "height": 720}, java_script_enabled=False).new_page()
    page.goto(str(stage.lobby.session["projector_url"]))
    expect(page.locator(".lobby .code")).to_be_visible()
    lobby = page.evaluate(MEASURE, [".lobby .code", ".lobby-qr svg", ".joined-count", ".join-line"])
    assert lobby["problems"] == []
    go("Many long answers", "stress")(stage)
    page.goto(str(stage.stress.session["projector_url"]))
    expect(page.locator(".projector-title")).to_have_text("Many long answers")
    cut = page.evaluate(MEASURE, [".projector-title", ".cards"])
    # Cards past the stage's edge are clipped there (hidden, not scrolled to): the page itself never scrolls, and
    # what is shown does not overlap and keeps to the floor.
    clipped = ("cut at the edge", "outside the window")
    assert [problem for problem in cut["problems"] if not problem.startswith(clipped)] == []
    screenshot(page, "stage-720p-no-javascript", full_page=False)
    page.context.close()
