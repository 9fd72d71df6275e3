"""A client written from the docs alone drives a whole session with every kind (issue 17, part 3).

handsup_client (written from docs/api.md and docs/protocol.md, never the server's code) against a real `handsup
serve`: an organizer's script sets up an institute and a cohort, uploads the pin's picture, stores the every-kind
deck (examples/scripts/every-kind.yaml), starts a session, and three phones join and answer every activity, some
over the JSON API and some over the participant socket, exactly as the docs say. The presenter watches over the
presenter socket (signed in through /login's password form), moderates, reveals, reads each tally and checks the
figures against the docs' rules (roundings included), ends the session and checks the archive's rows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from handsup_client import ApiError, Handsup, Participant, Session, Tally
from handsup_client.sockets import participant_socket, presenter_socket
from tests.factories import PASSWORD, LiveServer, cli, eventually, start_server, stop_server

ROOT = Path(__file__).resolve().parents[3]
EVERY_KIND = (ROOT / "examples/scripts/every-kind.yaml").read_text()
FLOOR_PLAN = ROOT / "examples/decks/media/bbaec748f4a4fa0a146bf4bd8f43c24cef6407e983109fe07e734da9701474fb.png"
ADMIN = "organizer@example.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("docs-client")
    live = start_server(data / "server")
    try:
        yield live
    finally:
        stop_server(live)


@pytest.fixture(scope="module")
def token(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An admin account and its API token, made on the command line as docs/api.md shows."""
    secret = tmp_path_factory.mktemp("secret") / "password"
    secret.write_text(PASSWORD + "\n")
    cli(server, "user", "add", ADMIN, "--role", "admin", "--password-file", str(secret))
    return cli(server, "token", "create", ADMIN, "--name", "docs client")


def counted(handsup: Handsup, session: Session, activity_id: int, respondents: int) -> Tally:
    """The tally once it counts `respondents` (the tally folds a moment after a 201, as docs/api.md says)."""

    def probe() -> Tally:
        tally = handsup.tally(session.id, activity_id)
        assert tally.respondents == respondents, tally
        return tally

    return eventually(probe, seconds=10)


def by(items: list[dict[str, Any]], name: str, *keys: str) -> dict[str, tuple[Any, ...]]:
    return {item[name]: tuple(item[key] for key in keys) for item in items}


def test_a_client_written_from_the_docs_drives_a_whole_session_with_every_kind(server: LiveServer, token: str) -> None:
    with Handsup(server.url, token) as handsup:
        institute = handsup.create_institute("2017 Spring Institute")
        cohort = handsup.create_cohort(
            institute.id,
            "Phoenix",
            site="Phoenix, AZ",
            starts_on="2017-04-24",
            ends_on="2017-04-25",
            time_zone="America/Phoenix",
        )
        assert handsup.cohort(cohort.id).name == "Phoenix"
        assert [one.id for one in handsup.institutes()] == [institute.id]
        stored = handsup.upload_media(FLOOR_PLAN)
        assert stored.media == FLOOR_PLAN.name  # an image is stored by the SHA-256 of its bytes
        deck = handsup.create_deck(source=EVERY_KIND)
        assert deck.problems == [] and deck.title == "Every kind"
        assert handsup.deck_yaml(deck.id) == EVERY_KIND
        session = handsup.start_session(deck_id=deck.id, cohort_id=cohort.id, title="Phoenix, day 1")
        assert session.state == "live" and session.current_activity_id is None and session.cohort_id == cohort.id
        kinds = [activity.kind for activity in session.activities]
        assert set(kinds) == {
            "poll",
            "wordcloud",
            "sort",
            "points",
            "scale",
            "ranking",
            "open",
            "resources",
            "qa",
            "grid",
            "number",
            "pin",
            "quiz",
            "slide",
        }

        phones = [handsup.join(session.code) for _ in range(3)]
        ids = [phone.participant_id for phone in phones]
        assert len(set(ids)) == 3 and phones[0].live().activity is None  # the lobby
        # The join page sets the participant cookie alone (its forms' CSRF token is derived from it, docs/protocol.md);
        # a first visit joins the session as a participant (the fourth, who answers nothing).
        page = httpx.get(f"{server.url}/{session.code}")
        assert page.status_code == 200
        assert [cookie.split("=")[0] for cookie in page.headers.get_list("set-cookie")] == ["handsup_participant"]

        cookie = handsup.sign_in(ADMIN, PASSWORD)
        asyncio.run(run_the_session(server, handsup, session, phones, cookie))
        results = {
            activity.kind + str(position): handsup.tally(session.id, activity.id)
            for position, activity in enumerate(session.activities)
        }
        assert all(tally.respondents == 3 for name, tally in results.items() if not name.startswith("slide"))

        ended = handsup.end(session.id)
        assert ended.state == "ended"
        check_the_archive(handsup.session_archive(session.id), session, ids)
        with zipfile.ZipFile(io.BytesIO(handsup.cohort_archive(cohort.id))) as cohort_zip:
            assert json.loads(cohort_zip.read("manifest.json"))["counts"]["sessions"] == 1


async def run_the_session(
    server: LiveServer, handsup: Handsup, session: Session, phones: list[Participant], cookie: str
) -> None:
    activity = {a.kind + ("-typed" if a.config.get("accepted") else ""): a for a in session.activities}
    async with presenter_socket(server.url, session.id, cookie=cookie) as presenter:
        first = await presenter.receive()
        assert first.has("presenter-live")

        # --- poll, over the participant socket: the "received" frame carries two fragments --------------------
        poll = activity["poll"].id
        handsup.goto(session.id, poll)
        async with participant_socket(server.url, session.code, phones[0].token) as phone:
            stage = await phone.receive()
            assert stage.ids == ["stage"]
            reply = await phone.answer(poll, {"choice": ["0", "2"]})
            assert reply.ids == [f"status-{poll}", f"submit-{poll}"]
            assert reply.text(f"status-{poll}").startswith("✓ Received.")
            assert reply.text(f"submit-{poll}") == "Update my answer"
            refused = await phone.answer(poll, {"choice": "7"})
            assert refused.ids == [f"status-{poll}"] and refused.text(f"status-{poll}") == (
                "That option is not part of this poll."
            )
            wrong_activity = await phone.answer(activity["open"].id, {"text": "early"})
            assert wrong_activity.ids == ["connection"]
        phones[1].answer(poll, choice="0")
        phones[2].answer(poll, choice=1)  # an integer is read as its decimal text
        # The presenter is pushed the poll's results: as `results-<id>`, or inside a whole `presenter-live` when the
        # answers were committed in the round of the goto's push ("the whole views include the current results, so
        # no separate results-<id> is sent in that round", docs/protocol.md): which one depends on timing.
        pushed = await presenter.until(
            lambda frame: (
                (frame.has(f"results-{poll}") or frame.has("presenter-live")) and "3 people answered" in frame.html
            )
        )
        assert f'id="results-{poll}"' in pushed.html
        tally = counted(handsup, session, poll, 3)
        assert by(tally.results["options"], "label", "count", "percent", "leading") == {
            "Putting out fires": (2, 67, True),
            "Maintaining the organization": (1, 33, False),
            "Engaging in improvement": (1, 33, False),
        }

        # --- word cloud: a repeated word counts once, punctuation at a word's ends is not part of it --------------
        cloud = activity["wordcloud"].id
        handsup.goto(session.id, cloud)
        phones[0].answer(cloud, word=["Trust!", "voice"])
        phones[1].answer(cloud, word=["trust", "Trust."])
        phones[2].answer(cloud, word="listening")
        tally = counted(handsup, session, cloud, 3)
        assert by(tally.results["words"], "key", "count") == {"trust": (2,), "voice": (1,), "listening": (1,)}
        assert tally.results["top"] == 2 and tally.results["cloud"][0] == ["trust", 6]
        handsup.moderate(session.id, cloud, "hide", word="voice")
        hidden = handsup.tally(session.id, cloud).results
        assert [word["key"] for word in hidden["hidden"]] == ["voice"]

        # --- sort: numbered fields, `unsure` ------------------------------------------------------------------
        sort = activity["sort"].id
        handsup.goto(session.id, sort)
        phones[0].answer_fields(sort, {"card-0": "0", "card-1": "unsure"})
        phones[1].answer_fields(sort, {"card-0": "0", "card-1": "1"})
        phones[2].answer_fields(sort, {"card-0": "1", "card-1": "1"})
        cards = counted(handsup, session, sort, 3).results["cards"]
        assert [(card["placed"], card["unsure"], card["leading"]) for card in cards] == [
            (3, 0, "Influence"),
            (2, 1, "Authority"),
        ]
        assert [part["percent"] for part in cards[0]["bins"]] == [67, 33]
        handsup.moderate(session.id, sort, "order", order="contested")
        assert handsup.tally(session.id, sort).results["order"] == "contested"

        # --- points: means to one decimal ------------------------------------------------------------------------
        points = activity["points"].id
        handsup.goto(session.id, points)
        for phone, spread in zip(phones, [(50, 30, 20), (0, 0, 100), (10, 10, 80)], strict=True):
            phone.answer_fields(points, {f"item-{index}": str(value) for index, value in enumerate(spread)})
        items = counted(handsup, session, points, 3).results["items"]
        assert [(item["points"], item["mean"], item["percent"]) for item in items] == [
            (60, 20.0, 20.0),
            (40, 13.3, 13.3),
            (200, 66.7, 66.7),
        ]

        # --- scale: skips, means to two decimals ---------------------------------------------------------------
        scale = activity["scale"].id
        handsup.goto(session.id, scale)
        phones[0].answer_fields(scale, {"statement-0": "4", "statement-1": "2"})
        phones[1].answer_fields(scale, {"statement-0": "5"})
        phones[2].answer_fields(scale, {"statement-0": "4", "statement-1": "3"})
        statements = counted(handsup, session, scale, 3).results["statements"]
        assert [(s["answers"], s["skips"], s["mean"]) for s in statements] == [(3, 0, 4.33), (2, 1, 2.5)]

        # --- ranking: average rank to two decimals --------------------------------------------------------------
        ranking = activity["ranking"].id
        handsup.goto(session.id, ranking)
        for phone, ranks in zip(phones, [(2, 1, 3), (1, 2, 3), (2, 1, 3)], strict=True):
            phone.answer_fields(ranking, {f"rank-{index}": str(rank) for index, rank in enumerate(ranks)})
        ranked = counted(handsup, session, ranking, 3).results["items"]
        assert [(item["label"], item["place"], item["average_rank"], item["first"]) for item in ranked] == [
            ("Non-discussables", 1, 1.33, 2),
            ("Public disagreement", 2, 1.67, 1),
            ("Power differentials", 3, 3.0, 0),
        ]

        # --- open (moderated): answers that differ only by case are one card; approve it --------------------
        open_ = activity["open"].id
        handsup.goto(session.id, open_)
        phones[0].answer(open_, text="Grading")
        phones[1].answer(open_, text="grading")
        phones[2].answer(open_, text="Our timetable")
        results = counted(handsup, session, open_, 3).results
        cards = {card["text"]: card for card in results["cards"]}
        assert {text: card["count"] for text, card in cards.items()} == {"Grading": 2, "Our timetable": 1}
        assert results["visible"] == [] and results["pending"] == 2
        handsup.moderate(session.id, open_, "approve", answer=cards["Grading"]["key"])
        assert [card["text"] for card in handsup.tally(session.id, open_).results["visible"]] == ["Grading"]

        # --- resources: links that differ by a trailing slash are one resource; upvote, approve, retitle --------
        resources = activity["resources"].id
        handsup.goto(session.id, resources)
        phones[0].answer(resources, type="video", title="A talk", link="https://example.org/talk/")
        phones[1].answer(resources, type="Video", title="The talk", link="example.org/talk")
        key = eventually(lambda: _only_key(handsup.tally(session.id, resources).results["resources"]))
        phones[2].answer(resources, upvote=[key])
        (item,) = counted(handsup, session, resources, 3).results["resources"]
        assert (item["suggested_by"], item["upvotes"], item["score"], item["pending"]) == (2, 1, 3, True)
        handsup.moderate(session.id, resources, "approve", answer=key)
        handsup.moderate(session.id, resources, "retitle", answer=key, title="Distributed leadership, a talk")
        (shown,) = handsup.tally(session.id, resources).results["visible"]
        assert shown["title"] == "Distributed leadership, a talk"

        # --- Q&A: ask (signed), the same question in other case, upvote; approve and highlight -------------------
        qa = activity["qa"].id
        handsup.goto(session.id, qa)
        phones[0].answer(qa, question="How do we start?", name="Ana")
        phones[1].answer(qa, question="how do we START?")
        asked = eventually(lambda: _only_key(handsup.tally(session.id, qa).results["questions"]))
        phones[2].answer(qa, upvote=asked)
        (question,) = counted(handsup, session, qa, 3).results["questions"]
        assert (question["askers"], question["upvoters"], question["score"], question["names"]) == (2, 1, 3, ["Ana"])
        handsup.moderate(session.id, qa, "approve", question=asked)
        handsup.moderate(session.id, qa, "highlight", question=asked)
        assert handsup.tally(session.id, qa).results["highlighted"]["key"] == asked

        # --- grid, number, pin --------------------------------------------------------------------------------------
        grid = activity["grid"].id
        handsup.goto(session.id, grid)
        phones[0].answer_fields(grid, {"item-0-x": "3", "item-0-y": "8", "item-1-skip": "on"})
        phones[1].answer_fields(grid, {"item-0-x": "5", "item-0-y": "4", "item-1-x": "2", "item-1-y": "2"})
        phones[2].answer_fields(grid, {"item-0-x": "4", "item-0-y": "6"})
        placed = counted(handsup, session, grid, 3).results["items"]
        assert [(i["placed"], i["skips"], i["mean_x"], i["mean_y"]) for i in placed] == [
            (3, 0, 4.0, 6.0),
            (1, 2, 2.0, 2.0),
        ]
        number = activity["number"].id
        handsup.goto(session.id, number)
        for phone, value in zip(phones, ["8", "10", "20"], strict=True):
            phone.answer(number, value=value)
        guessed = counted(handsup, session, number, 3).results
        assert (guessed["median"], guessed["mean"]) == ("10", "12.67")
        assert (guessed["correct"]["within"], guessed["correct"]["share"]) == (2, 67)
        pin = activity["pin"].id
        handsup.goto(session.id, pin)
        for phone, (x, y) in zip(phones, [("40", "25"), ("41,5 %", "26"), ("90", "90")], strict=True):
            phone.answer(pin, x=x, y=y)
        thirds = counted(handsup, session, pin, 3).results["thirds"]
        assert {(t["across"], t["down"]): t["count"] for t in thirds if t["count"]} == {
            ("centre", "top"): 2,
            ("right", "bottom"): 1,
        }

        # --- quiz: a pick and a typed answer; revealing closes voting --------------------------------------------
        for name, answers, right in (("quiz", ["2", "2", "0"], 2), ("quiz-typed", ["ten", "10", "eleven"], 2)):
            quiz = activity[name].id
            handsup.goto(session.id, quiz)
            field = "answer" if name == "quiz-typed" else "choice"
            for phone, given in zip(phones, answers, strict=True):
                phone.answer_fields(quiz, {field: given})
            marked = counted(handsup, session, quiz, 3).results
            assert (marked["right"], marked["wrong"], marked["right_percent"]) == (right, 1, 67)
            after = handsup.reveal(session.id, quiz)
            assert after.activity(quiz).revealed and not after.activity(quiz).voting_open

        handsup.goto(session.id, activity["slide"].id)
        assert handsup.tally(session.id, activity["slide"].id).results == {}


def _only_key(items: list[dict[str, Any]]) -> str:
    assert len(items) == 1, items
    return str(items[0]["key"])


def check_the_archive(archive: bytes, session: Session, participant_ids: list[int]) -> None:
    """The archive's rows, as docs/archives.md describes them."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = set(zipped.namelist())
        manifest = json.loads(zipped.read("manifest.json"))
        assert (manifest["format"], manifest["version"], manifest["scope"]) == ("handsup-archive", 2, "session")
        assert manifest["counts"]["participants"] == 4  # the three phones, and the visit of the join page
        assert manifest["counts"]["activities"] == len(session.activities)
        assert {entry["path"] for entry in manifest["files"]} == names - {"manifest.json"}
        data = json.loads(zipped.read("data.json"))
        (archived,) = data["sessions"]
        # Participants are numbered 1, 2, 3... in the order they joined this session: the phones first, then the page.
        # (POST /api/v1/join's participant_id is the database's id, not this number.)
        assert [person["number"] for person in archived["participants"]] == [1, 2, 3, 4]
        assert not {"id", "participant_id"} & set(archived["participants"][0])
        summary = list(csv.DictReader(io.StringIO(zipped.read("summary.csv").decode())))
        # One row per activity that takes answers: a content slide is left out (docs/archives.md, summary.csv).
        assert [row["kind"] for row in summary] == [a.kind for a in session.activities if a.kind != "slide"]
        cloud_rows = rows(zipped, "responses/02-leadership-in-three-words.csv")
        # A repeated word is stored once, as the entry counts (punctuation at its ends stripped, case folded).
        assert sorted((row["participant"], row["entry"], row["normalised"]) for row in cloud_rows) == [
            ("1", "trust", "trust"),
            ("1", "voice", "voice"),
            ("2", "trust", "trust"),
            ("3", "listening", "listening"),
        ]
        poll_rows = rows(zipped, "responses/01-where-does-most-of-your-week-go.csv")
        assert sorted((row["participant"], row["option_index"]) for row in poll_rows) == [
            ("1", "0"),
            ("1", "2"),
            ("2", "0"),
            ("3", "1"),
        ]
        assert "leaderboard.csv" in names


def rows(zipped: zipfile.ZipFile, path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(zipped.read(path).decode("utf-8-sig"))))


def code_blocks(markdown: str, after: str, language: str = "") -> list[str]:
    """The fenced code blocks of a docs section (from the heading `after` to the next heading of its level)."""
    section = markdown[markdown.index(after) :]
    level = after.split(" ")[0]
    following = section.find(f"\n{level} ", len(after))
    section = section if following < 0 else section[:following]
    return [
        block.split("\n", 1)[1] for block in section.split("```")[1::2] if block.split("\n", 1)[0].strip() == language
    ]


def run_python(server: LiveServer, token: str, *args: str, cwd: Path) -> list[str]:
    env = {**server.env(), "HANDSUP_URL": server.url, "HANDSUP_TOKEN": token, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_docs_example_of_the_client_runs_and_prints_what_the_docs_say(
    server: LiveServer, token: str, tmp_path: Path
) -> None:
    docs = (ROOT / "docs/api.md").read_text()
    (example,) = code_blocks(docs, "## Scripting Handsup: the Python client", "python")
    printed = code_blocks(docs, "## Scripting Handsup: the Python client")[0]
    script = tmp_path / "example.py"
    script.write_text(example)
    assert run_python(server, token, str(script), cwd=tmp_path) == printed.splitlines()


def test_the_every_kind_script_runs_a_whole_session_and_saves_its_archive(
    server: LiveServer, token: str, tmp_path: Path
) -> None:
    docs = (ROOT / "docs/api.md").read_text()
    shown = code_blocks(docs, "## Scripting Handsup: the Python client")[1].splitlines()
    lines = run_python(server, token, str(ROOT / "examples/scripts/every_kind.py"), cwd=tmp_path)
    assert lines[0].startswith("Session ") and " join at " in lines[0]
    assert lines[1:] == shown[2:]  # the docs' run, past its command and its session's code
    with zipfile.ZipFile(tmp_path / "every-kind.zip") as archive:
        assert json.loads(archive.read("manifest.json"))["counts"]["responses"] == 32  # the answers ANSWERS lists


def test_every_method_of_the_client_does_what_the_docs_say(server: LiveServer, token: str, tmp_path: Path) -> None:
    """The client's other methods, each against the real server: decks and their versions, tokens, co-facilitators,
    reactions and names, exports, comparisons, the library, and importing an archive."""
    with Handsup(server.url, token) as handsup:
        deck = handsup.create_deck(title="Day one")
        assert deck.problems and deck.can_edit  # a draft without activities
        document = {"title": "Day one", "activities": [{"kind": "poll", "title": "Ready?", "options": ["Yes.", "No."]}]}
        saved = handsup.save_deck(deck.id, deck.version, document=document)
        assert saved.version == deck.version + 1 and saved.problems == []
        with pytest.raises(ApiError) as stale:
            handsup.save_deck(deck.id, deck.version, document=document)
        assert stale.value.status == 409 and stale.value.body["version"] == saved.version
        assert deck.id in [one.id for one in handsup.decks()]
        handsup.delete_deck(deck.id)
        assert deck.id not in [one.id for one in handsup.decks()]
        assert handsup.restore_deck(deck.id).document == document
        copy = handsup.create_deck(copy_of=deck.id)
        assert copy.title.startswith("Copy of")

        institute = handsup.create_institute("Summer Institute", "Two sites")
        cohort = handsup.create_cohort(institute.id, "Oakland", site="Oakland, CA", deck_ids=[deck.id])
        assert [one.name for one in handsup.institute(institute.id).cohorts or []] == ["Oakland"]
        session = handsup.start_session(deck_id=deck.id, cohort_id=cohort.id, nicknames=True, teams=["Red", "Blue"])
        poll = session.activities[0].id
        handsup.goto(session.id, poll)
        phone = handsup.join(session.code)
        assert phone.choose_name("Ana", "Red").nickname == "Ana"
        phone.react("heart")
        phone.answer(poll, choice="0")
        with pytest.raises(ApiError) as refused:
            phone.answer(poll, choice="5")
        assert (refused.value.status, refused.value.detail) == (422, "That option is not part of this poll.")
        handsup.close_voting(session.id, poll)
        with pytest.raises(ApiError) as closed:
            phone.answer(poll, choice="1")
        assert closed.value.detail == "Voting is closed for this activity."
        assert "participant,answered_at,time_zone,option,option_index" in handsup.activity_export(session.id, poll)
        secret = tmp_path / "password"
        secret.write_text(PASSWORD + "\n")
        cli(server, "user", "add", "ana@example.org", "--role", "presenter", "--password-file", str(secret))
        (ana,) = handsup.add_facilitator(session.id, "ana@example.org").facilitators
        assert ana.email == "ana@example.org"
        handsup.remove_facilitator(session.id, ana.id)
        assert handsup.session(session.id).facilitators == []
        assert handsup.end(session.id).state == "ended"

        comparisons = handsup.comparisons(institute.id)
        assert [(one["kind"], one["title"]) for one in comparisons] == [("poll", "Ready?")]
        column = handsup.comparison(institute.id, comparisons[0]["key"])["columns"][0]
        assert column["results"]["options"][0]["count"] == 1
        assert handsup.pool(institute.id)["pool"]["resources"] == []

        archive = handsup.institute_archive(institute.id)
        imported = handsup.import_archive(archive)
        assert imported  # a new institute, from the archive
        assert len(handsup.institutes()) >= 2

        mine = handsup.tokens()
        assert [one.name for one in mine] == ["docs client"] and mine[0].revoked_at is None
    other = cli(server, "token", "create", ADMIN, "--name", "to revoke")
    with Handsup(server.url, other) as handsup:
        (revoked,) = [one for one in handsup.tokens() if one.name == "to revoke"]
        handsup.revoke_token(revoked.id)
        with pytest.raises(ApiError) as gone:
            handsup.decks()
        assert gone.value.status == 401
