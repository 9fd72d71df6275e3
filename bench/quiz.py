"""The quiz scenario: every phone answers a timed quiz question in a burst, the presenter reveals, and we time how
soon the projector shows the leaderboard and each phone its own rank; the bare baseline does the same exchange.

One run, per question of `QUESTIONS` in turn (two picked, one typed):

1. **Open.** The presenter shows the question (`goto`) and starts its countdown (`countdown`, the presenter's "go",
   which starts the server's clock); we wait until every phone has the question with its countdown.
2. **Burst.** Every phone answers once, open loop at the profile's rate; a mix of right and wrong answers
   (`pick`), so ranks differ. Each answer must be acknowledged ("Received").
3. **Reveal.** After a short pause (so the reveal does not wait out the last push interval) the presenter reveals.
   From the reveal's send we time the first projector message holding the leaderboard (`class="quiz-board"`) and
   each ranked phone's new stage with its own rank ("Rank 12 of 240").

The bare app (bench/baseline.py) gets the same answers (the same bytes) and, for the reveal, a board of the size
Handsup's projector was sent and a personal stage of the size Handsup's phones were sent; the quiz runs Handsup
first in each repeat so the baseline knows those sizes.

Then the check (Handsup only): the database must hold every acknowledged answer as sent, and the leaderboard the
projector showed and every phone's own rank and points must equal an independent computation from the stored
answers (the stated formula, this module's own knowledge of which answers are right, ranks shared on equal
totals). The client alone cannot see the server's elapsed times, so it checks what it can: the number ranked, and
that every stored time lies in the window the client saw (from the countdown's reply to the answer's send, and from
the countdown's send to the answer's ack).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from bench.baseline import BaselineTarget
from bench.driver import (
    Client,
    LagProbe,
    Meters,
    Presenter,
    Profile,
    Run,
    Vote,
    await_acks,
    burst,
    close_all,
    connect_presenter,
    open_socket,
    quiet_collector,
    ramp,
    spread,
    wait_until,
)
from bench.loadgen import HandsupTarget, hash_token, log_problems
from bench.spy import recording, summary
from server.names import generated_name

TIME_LIMIT = 30  # seconds, each question's; the countdown is as long, so it does not close a question mid-run
FULL_POINTS = 1000
LEADERS = 10  # the room's board: the top 10 and everyone tied with the tenth (docs/kinds.md)
DEFAULT_SIZES = (6000, 4000)  # projector board, phone stage (bytes): for a baseline run with no Handsup run first


@dataclass(frozen=True)
class Question:
    """A quiz question as the deck states it, and what phones may answer: (value, right?) pairs."""

    title: str
    field: str  # the form field: "choice" (an option's index) or "answer" (typed)
    answers: tuple[tuple[str, bool], ...]
    deck: str  # the question's own lines in the deck YAML


QUESTIONS = (
    Question(
        "Which PSEL standard is about equity?",
        "choice",
        (("0", False), ("1", False), ("2", True), ("3", False)),
        "    options: [Mission and vision, Ethics, Equity and cultural responsiveness, Curriculum]\n    correct: [3]\n",
    ),
    Question(
        "A leadership that is shared among many is called...",
        "answer",
        (
            ("Distributed leadership", True),
            ("distributed leadrship", True),  # one typo: accepted from 5 letters on
            ("Instructional leadership", False),
            ("no idea", False),
        ),
        "    accepted: [Distributed leadership]\n",
    ),
    Question(
        "Who first sees a school's culture?",
        "choice",
        (("0", False), ("1", True), ("2", False)),
        "    options: [The principal, The newcomers, The inspectors]\n    correct: [2]\n",
    ),
)
DECK = "title: Benchmark quiz\nactivities:\n" + "".join(
    f"  - kind: quiz\n    title: {q.title}\n{q.deck}    time_limit: {TIME_LIMIT}\n" for q in QUESTIONS
)
BOARD_ROW = re.compile(
    # A row of the list, or a step of the podium (after the last reveal): rank, name (and team), points.
    r'<li class="(?:quiz-leader|step)[^"]*">\s*<span class="quiz-place">(\d+)</span>\s*'
    r'<span class="quiz-name">(.*?)</span>\s*<span class="quiz-points">(\d+) points?</span>',
    re.S,
)
OWN_RANK = re.compile(r"(?:Final rank|Rank) (\d+) of (\d+)")
OWN_POINTS = re.compile(r"(\d+) points? in all")


def pick(participant: int, question: int) -> int:
    """Which of the question's answers phone `participant` sends: every answer in turn, shifted per question, so
    right and wrong mix differently on each question and totals spread out."""
    return (participant * 7 + question * 3 + participant // 5) % len(QUESTIONS[question].answers)


def points(right: bool, elapsed: float) -> int:
    """The stated formula (docs/kinds.md), written out again here: round(1000 * (1 - t / (2 * limit))) for a right
    answer after t <= limit seconds, 0 for a wrong or late one."""
    if not right or elapsed > TIME_LIMIT:
        return 0
    return round(FULL_POINTS * (1 - elapsed / (2 * TIME_LIMIT)))


def ranked(totals: dict[int, int]) -> dict[int, tuple[int, int]]:
    """participant -> (rank, points): best first, equal totals share a rank (1, 2, 2, 4)."""
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    out: dict[int, tuple[int, int]] = {}
    previous: tuple[int, int] | None = None  # (points, rank)
    for position, (participant, total) in enumerate(ordered, start=1):
        rank = previous[1] if previous is not None and previous[0] == total else position
        out[participant] = (rank, total)
        previous = (total, rank)
    return out


def answer_message(activity: str, question: Question, code: int, page_url: str) -> str:
    """What htmx's ws extension sends for the question's form: its field plus HEADERS (which the server ignores)."""
    form = f"form-{activity}"
    headers = {"HX-Request": "true", "HX-Trigger": form, "HX-Trigger-Name": None, "HX-Target": form}
    value = question.answers[code][0]
    return json.dumps({"activity": activity, question.field: value, "HEADERS": {**headers, "HX-Current-URL": page_url}})


# --- the two targets -------------------------------------------------------------------------------------------


class QuizHandsup(HandsupTarget):
    """The Handsup server with a session of the quiz deck, a projector socket besides the presenter's."""

    def __init__(self, workdir: Path, **kwargs: Any) -> None:
        super().__init__(workdir, **kwargs)
        self.question_ids: list[int] = []
        self.current = 0
        self.secret = ""

    async def prepare(self, http: httpx.AsyncClient) -> None:
        response = await http.post(f"{self.url}/api/v1/sessions", json={"deck_yaml": DECK}, headers=self._auth)
        response.raise_for_status()
        session = response.json()
        self.session_id, self.code = session["id"], session["code"]
        self.question_ids = [a["id"] for a in session["activities"]]
        self.secret = session["projector_url"].rstrip("/").rsplit("/", 1)[-1]

    def projector_socket(self) -> tuple[str, dict[str, str]]:
        return f"ws://127.0.0.1:{self.port}/ws/projector/{self.secret}", {}

    async def open_question(self, index: int, http: httpx.AsyncClient) -> None:
        self.current = index
        activity = self.question_ids[index]
        await self._control(http, {"action": "goto", "activity_id": activity})
        await self._control(
            http, {"action": "countdown", "activity_id": activity, "fields": {"seconds": str(TIME_LIMIT)}}
        )

    async def reveal(self, index: int, http: httpx.AsyncClient, sizes: tuple[int, int]) -> None:
        await self._control(http, {"action": "reveal", "activity_id": self.question_ids[index]})

    def vote(self, round_: int) -> str:
        """Answer `round_` (an index into the current question's answers, see `pick`)."""
        activity = str(self.question_ids[self.current])
        return answer_message(activity, QUESTIONS[self.current], round_, f"http://127.0.0.1:{self.port}/{self.code}")

    def folded(self, text: str) -> int | None:
        return None  # the presenter's socket is held open as a presenter's is; the quiz does not time it

    def is_new_stage(self, step: str, text: str) -> bool:
        moment, index = step.split("-")
        if f'id="title-{self.question_ids[int(index)]}"' not in text:
            return False
        return 'role="timer"' in text if moment == "open" else 'class="quiz-rank"' in text

    def is_board(self, text: str) -> bool:
        return 'class="quiz-board' in text  # "quiz-board final" once the last question is revealed

    def check_quiz(self, record: QuizRecord) -> dict[str, Any]:
        """After the stop: the stored answers against the acknowledged ones, and the leaderboards the projector and
        the phones showed against the standings computed here from the stored answers."""
        database = self.workdir / "handsup.db"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
            people = dict(db.execute("SELECT token_hash, id FROM participant WHERE session_id = ?", (self.session_id,)))
            marks = ",".join("?" * len(self.question_ids))
            rows = db.execute(
                f"SELECT participant_id, activity_id, payload FROM response WHERE activity_id IN ({marks})",  # noqa: S608
                self.question_ids,
            ).fetchall()
        question_of = {activity: index for index, activity in enumerate(self.question_ids)}
        stored = {(pid, question_of[activity]): json.loads(payload) for pid, activity, payload in rows}
        return {"response_rows": len(rows), **verify(record, people, stored, self.session_id)}


class QuizBaseline(BaselineTarget):
    """The bare app given the same answers, and for the reveal a board and personal stages of Handsup's sizes."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.current = 0

    async def prepare(self, http: httpx.AsyncClient) -> None:
        return None

    def projector_socket(self) -> tuple[str, dict[str, str]]:
        return f"ws://127.0.0.1:{self.port}/ws/projector/1", {}

    async def open_question(self, index: int, http: httpx.AsyncClient) -> None:
        self.current = index
        await self.change_stage("open", http)

    async def reveal(self, index: int, http: httpx.AsyncClient, sizes: tuple[int, int]) -> None:
        self.slide += 1
        body = {"projector_bytes": sizes[0], "phone_bytes": sizes[1]}
        response = await http.post(f"{self.url}/api/v1/reveal", json=body)
        response.raise_for_status()

    def vote(self, round_: int) -> str:
        return answer_message("1", QUESTIONS[self.current], round_, f"http://127.0.0.1:{self.port}/000000")

    def is_new_stage(self, step: str, text: str) -> bool:
        return f'data-slide="{self.slide}"' in text

    def is_board(self, text: str) -> bool:
        return 'class="quiz-board' in text  # "quiz-board final" once the last question is revealed

    def check_quiz(self, record: QuizRecord) -> dict[str, Any]:
        return {}  # the bare app keeps nothing and ranks no one


QuizTarget = QuizHandsup | QuizBaseline


# --- one run ---------------------------------------------------------------------------------------------------


@dataclass
class Asked:
    """One question as the client saw it."""

    index: int
    open_sent: float = 0.0
    open_done: float = 0.0  # the countdown's reply: the server's clock started between open_sent and this
    votes: list[Vote] = field(default_factory=list)
    reveal_sent: float | None = None
    board_at: float | None = None
    board: str = ""
    phones: dict[int, tuple[float, str]] = field(default_factory=dict)  # client index -> (when, own stage)
    expected: int = 0  # phones ranked by then: with an acknowledged answer to this or an earlier question


@dataclass
class QuizRecord:
    """What the client saw of a run, for the target's check."""

    tokens: dict[int, str]  # client index -> participant token
    asked: list[Asked]


@dataclass
class Projector:
    ws: Any = None
    boards: list[tuple[float, str]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None


async def read_projector(target: QuizTarget, projector: Projector) -> None:
    try:
        async for message in projector.ws:
            now = time.perf_counter()
            if isinstance(message, str) and target.is_board(message):
                projector.boards.append((now, message))
    except ConnectionClosed:
        pass


async def ask(
    run: Run, projector: Projector, index: int, http: httpx.AsyncClient, sizes: tuple[int, int], answered: set[int]
) -> Asked:
    """Open one question, burst the answers, reveal; wait (bounded) for the board and every ranked phone's rank.
    `answered`: the phones with an acknowledged answer so far (the ranked ones), grown by this question's."""
    target: QuizTarget = run.target  # type: ignore[assignment]
    profile = run.profile
    asked = Asked(index)
    clients = run.connected
    opening = f"open-{index}"
    run.stage_step = opening
    asked.open_sent = time.perf_counter()
    await target.open_question(index, http)
    asked.open_done = time.perf_counter()
    if not await wait_until(
        lambda: all(opening in c.stage_seen or c.closed for c in clients), profile.fanout_timeout_s
    ):
        missing = sum(1 for c in clients if opening not in c.stage_seen)
        run.notes.append(f"question {index + 1}: {missing} phones were not shown it")
    run.votes = asked.votes = [Vote(i, c, pick(c.index, index)) for i, c in enumerate(clients)]
    await burst(run)
    await await_acks(run)
    await asyncio.sleep(profile.settle_s)
    revealing = f"reveal-{index}"
    run.stage_step = revealing
    run.keep_text.add(revealing)
    answered |= {v.client.index for v in asked.votes if v.acked is not None}
    waiting = [c for c in clients if c.index in answered]
    asked.expected = len(answered)
    asked.reveal_sent = sent = time.perf_counter()
    await target.reveal(index, http, sizes)

    def arrived() -> bool:
        return any(moment >= sent for moment, _ in projector.boards) and all(
            revealing in c.stage_seen or c.closed for c in waiting
        )

    if not await wait_until(arrived, profile.fanout_timeout_s):
        missing = sum(1 for c in waiting if revealing not in c.stage_seen)
        run.notes.append(f"reveal {index + 1}: {missing} ranked phones had no rank after {profile.fanout_timeout_s} s")
    board = next(((moment, text) for moment, text in projector.boards if moment >= sent), None)
    if board is not None:
        asked.board_at, asked.board = board
    for client in waiting:
        if revealing in client.stage_seen:
            asked.phones[client.index] = (client.stage_seen[revealing], client.stage_text.pop(revealing, ""))
    return asked


async def drive_quiz(target: QuizTarget, profile: Profile, sizes: tuple[int, int]) -> tuple[dict[str, Any], QuizRecord]:
    limits = httpx.Limits(max_connections=profile.join_concurrency, max_keepalive_connections=profile.join_concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as http:
        await target.prepare(http)
        clients = [Client(i) for i in range(profile.participants)]
        run = Run(target, profile, clients, Presenter(), Meters(target.server_pid))
        await connect_presenter(run, http)
        projector = Projector()
        url, headers = target.projector_socket()
        projector.ws = await asyncio.wait_for(open_socket(url, headers), 30)
        projector.reader = asyncio.create_task(read_projector(target, projector))
        asked: list[Asked] = []
        answered: set[int] = set()
        probe = LagProbe()
        watcher: asyncio.Task[None] | None = None
        completed = False
        try:
            run.meters.mark("ramp_start")
            await ramp(run, http)
            run.meters.mark("ramp_end")
            await asyncio.sleep(profile.idle_s)
            run.meters.mark("idle_end")
            watcher = asyncio.create_task(probe.watch())
            spy = target.profile_file
            with quiet_collector(), recording(target.server_pid, spy) if spy else contextlib.nullcontext():
                for index in range(len(QUESTIONS)):
                    asked.append(await ask(run, projector, index, http, sizes, answered))
            completed = True
        except Exception as error:  # a phase that breaks is a finding: keep it and report the partial run
            run.fail("phase", f"quiz: {type(error).__name__}: {error}")
        finally:
            run.meters.mark("quiz_end")
            if watcher is not None:
                watcher.cancel()
            await close_all(run)
            await projector.ws.close()
            if projector.reader is not None:
                projector.reader.cancel()
    figures = quiz_figures(run, asked)
    figures.update(probe.figures(), completed=completed, failures=dict(run.failures), failure_samples=run.samples)
    figures["notes"] = run.notes
    tokens = {c.index: c.joined.token for c in run.clients if c.joined is not None}
    return figures, QuizRecord(tokens, asked)


def quiz_figures(run: Run, asked: list[Asked]) -> dict[str, Any]:
    votes = [v for a in asked for v in a.votes]
    acked = [v for v in votes if v.acked is not None and v.sent is not None]
    for vote in votes:
        if vote.error is not None:
            run.fail("answer", vote.error)
    projector = [a.board_at - a.reveal_sent for a in asked if a.board_at is not None and a.reveal_sent is not None]
    phones = [moment - a.reveal_sent for a in asked if a.reveal_sent is not None for moment, _ in a.phones.values()]
    joins = [c.join_s for c in run.clients if c.join_s is not None]
    meters = run.meters
    phases = {}
    if "ramp_end" in meters.marks:
        phases["ramp"] = meters.between("ramp_start", "ramp_end")
    if "idle_end" in meters.marks:
        phases["questions"] = meters.between("idle_end", "quiz_end")
    total = meters.between("ramp_start", "quiz_end")
    return {
        "participants": run.profile.participants,
        "participants_connected": len(joins),
        **spread(joins, "join"),
        "questions": len(asked),
        "answers_offered": len(votes),
        "answers_acked": len(acked),
        "answers_refused_or_lost": len(votes) - len(acked),
        "answers_right_sent": sum(1 for a in asked for v in a.votes if QUESTIONS[a.index].answers[v.round][1]),
        **spread([v.acked - v.sent for v in acked if v.acked is not None and v.sent is not None], "ack"),
        "reveal_projector_samples_ms": [round(s * 1000, 1) for s in projector],
        **spread(projector, "reveal_projector"),
        "reveal_phones_expected": sum(a.expected for a in asked),
        "reveal_phones_received": len(phones),
        **spread(phones, "reveal_phones"),
        "reveal_projector_bytes": max((len(a.board) for a in asked), default=None),
        "reveal_phone_bytes": _median_size(asked),
        "server_cpu_s": total["server_cpu_s"],
        "client_cpu_s": total["client_cpu_s"],
        "other_processes_cpu_s": total["other_cpu_s"],
        "phases": phases,
    }


def _median_size(asked: list[Asked]) -> int | None:
    sizes = [len(text) for a in asked for _, text in a.phones.values() if text]
    return int(statistics.median(sizes)) if sizes else None


# --- the check -------------------------------------------------------------------------------------------------


def parse_board(html: str) -> list[tuple[int, str, int]]:
    """The projector's leaderboard: (rank, name, points) per row, best first."""
    return [(int(rank), name.strip(), int(total)) for rank, name, total in BOARD_ROW.findall(html)]


def parse_own(html: str) -> tuple[int, int, int] | None:
    """A phone's own place: (rank, how many ranked, points in all), or None when its stage shows none."""
    rank, total = OWN_RANK.search(html), OWN_POINTS.search(html)
    if rank is None or total is None:
        return None
    return int(rank.group(1)), int(rank.group(2)), int(total.group(1))


def verify(
    record: QuizRecord, people: dict[str, int], stored: dict[tuple[int, int], dict[str, Any]], session_id: int
) -> dict[str, Any]:
    """The stored answers against what was acknowledged, and each reveal's leaderboards against standings computed
    here from the stored answers (names: each phone's generated name in the session, as the projector shows it in
    English); every disagreement is counted by kind and sampled."""
    problems: Counter[str] = Counter()
    samples: list[str] = []

    def wrong(kind: str, message: str) -> None:
        problems[kind] += 1
        if len(samples) < 8:
            samples.append(message)

    pid_of = {index: people.get(hash_token(token)) for index, token in record.tokens.items()}
    name_of = {pid: generated_name(session_id, pid, "en") for pid in people.values()}
    totals: Counter[int] = Counter()
    acked = persisted = 0
    for asked in record.asked:
        question = QUESTIONS[asked.index]
        for vote in asked.votes:
            if vote.acked is None or vote.sent is None:
                continue
            acked += 1
            pid = pid_of.get(vote.client.index)
            payload = stored.get((pid, asked.index)) if pid is not None else None
            value, right = question.answers[vote.round]
            if payload is None or not _same_answer(question, payload, value):
                wrong("acked_answer_lost", f"q{asked.index + 1} phone {vote.client.index}: stored {payload}")
                continue
            persisted += 1
            elapsed = float(payload["elapsed"])
            low, high = vote.sent - asked.open_done, vote.acked - asked.open_sent
            if not low - 0.002 <= elapsed <= high + 0.002:  # the stored time is rounded to the millisecond
                wrong("elapsed_outside_window", f"q{asked.index + 1}: {elapsed} s not in [{low:.3f}, {high:.3f}]")
            assert pid is not None
            totals[pid] += points(right, elapsed)
        expected = ranked(dict(totals))
        if asked.expected != len(expected):
            wrong("ranked_count", f"reveal {asked.index + 1}: {len(expected)} ranked, {asked.expected} answered")
        _check_board(asked, expected, name_of, wrong)
        for index, (_, html) in asked.phones.items():
            own = parse_own(html)
            pid = pid_of.get(index)
            place = expected.get(pid) if pid is not None else None
            if own is None or place is None or own != (place[0], len(expected), place[1]):
                wrong("phone_rank", f"reveal {asked.index + 1} phone {index}: shows {own}, computed {place}")
    return {
        "answers_persisted": persisted,
        "acked_answers_lost": acked - persisted,
        "leaderboard_mismatches": sum(count for kind, count in problems.items() if kind != "acked_answer_lost"),
        "check_problems": dict(problems),
        "check_samples": samples,
        "ranked_at_last_reveal": len(totals),
        "top_points_at_last_reveal": max(totals.values(), default=None),
    }


def _same_answer(question: Question, payload: dict[str, Any], value: str) -> bool:
    if question.field == "choice":
        return bool(payload.get("choices") == [int(value)])
    return bool(payload.get("answer") == value)


def _check_board(asked: Asked, expected: dict[int, tuple[int, int]], name_of: dict[int, str], wrong: Any) -> None:
    """The board shows the top 10 and everyone tied with the tenth, with their rank, name and points."""
    shown = parse_board(asked.board)
    order = sorted(expected.items(), key=lambda item: (item[1][0], item[0]))
    cut = order[min(LEADERS, len(order)) - 1][1][0] if order else 0
    top = [(rank, pid, total) for pid, (rank, total) in order if rank <= cut]
    if [(rank, total) for rank, _, total in shown] != [(rank, total) for rank, _, total in top]:
        wrong("board", f"reveal {asked.index + 1}: shows {shown[:3]}..., computed {top[:3]}...")
        return
    # Equal totals are listed in the order of joining (participant id); each row names its phone.
    for (_, name, _), (_, pid, _) in zip(shown, top, strict=True):
        if name != name_of.get(pid):
            wrong("board_name", f"reveal {asked.index + 1}: {name!r} where {name_of.get(pid)!r} is")


# --- the scenario ----------------------------------------------------------------------------------------------


async def run_quiz_target(target: QuizTarget, profile: Profile, sizes: tuple[int, int]) -> dict[str, Any]:
    """Start the target's server, run the quiz, stop it, check what it stored and showed; the figures."""
    try:
        await asyncio.to_thread(target.launch)
        figures, record = await drive_quiz(target, profile, sizes)
    finally:
        exit_code = await asyncio.to_thread(target.stop)
    figures["server_exit_code"] = exit_code
    figures.update(await asyncio.to_thread(target.check_quiz, record))
    if isinstance(target, QuizHandsup):
        assert target.server is not None
        figures.update(log_problems(target.server.log))
        if target.profile_file is not None and target.profile_file.exists():
            figures["server_profile"] = {**summary(target.profile_file), "raw": str(target.profile_file)}
    return figures


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The projector's reveal figures over every run's samples (one per question per run): p99 of a few samples is
    their maximum, which is the honest reading; the other figures as run.combine makes them."""
    samples = [s / 1000 for run in runs for s in run.get("reveal_projector_samples_ms", [])]
    return {
        "reveal_projector_samples_ms": [round(s * 1000, 1) for s in samples],
        "reveal_projector_samples": len(samples),
        **spread(samples, "reveal_projector"),
    }
