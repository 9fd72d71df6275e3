"""The load generator against the real server: `python -m server.cli serve` started here, driven by bench.driver.

Run alone: `python -m bench.loadgen --participants 200 --votes 400 --rate 400` (prints the figures as JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.driver import Joined, Kind, Profile, fetch_page, run_target
from bench.procs import ROOT, ServerProcess, free_port, raise_open_files, start_process
from bench.spy import summary

DECK = "distributed-leadership"
EMAIL = "bench-presenter@example.org"
COUNT = re.compile(r"\((\d+)\)</small>")
COOKIE = "handsup_participant"  # the participant cookie of docs/protocol.md
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OPEN_FILES = 65536


class HandsupTarget:
    """The Handsup server in a fresh data folder, a presenter account, a live session on its widest poll."""

    name = "handsup"

    def __init__(
        self,
        workdir: Path,
        extra_env: dict[str, str] | None = None,
        gc_stats: bool = False,
        profile_file: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.gc_file = workdir / "gc.json" if gc_stats else None
        self.profile_file = profile_file
        self.port = free_port()
        self.env = _server_env(self.port, workdir, extra_env or {})
        self.server: ServerProcess | None = None
        self.token = ""
        self.session_id = 0
        self.code = ""
        self.poll_id = 0
        self.next_id = 0
        self.rounds_limit = 1

    # --- lifecycle ----------------------------------------------------------------------------------------------

    def launch(self) -> None:
        """Accounts first (through the real CLI), then the server; bounded waits throughout."""
        password = self.workdir / "password"
        password.write_text(secrets.token_urlsafe(24))
        self._cli("user", "add", EMAIL, "--role", "presenter", "--password-file", str(password))
        self.token = self._cli("token", "create", EMAIL).strip()
        command = ["-m", "server.cli", "serve"]
        if self.gc_file is not None:  # the same server, with its collector's pauses timed (bench/gcwatch.py)
            command = ["-m", "bench.gcwatch", str(self.gc_file), "serve"]
        self.server = start_process([sys.executable, *command], self.env, self.port, self.workdir / "server.log")

    def _cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", *args],
            cwd=ROOT,
            env=self.env,
            timeout=120,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"handsup {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    @property
    def server_pid(self) -> int:
        assert self.server is not None
        return self.server.pid

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def stop(self) -> int | None:
        """Stop the server (if it was started); its exit code."""
        return self.server.stop() if self.server is not None else None

    def check(self, answers: dict[str, int]) -> dict[str, Any]:
        """After the stop: every acknowledged last answer must be in the database file; what the server logged."""
        assert self.server is not None
        figures = {**self._persisted(answers), **log_problems(self.server.log)}
        if self.gc_file is not None and self.gc_file.exists():
            figures["server_gc_pauses"] = json.loads(self.gc_file.read_text())
        if self.profile_file is not None and self.profile_file.exists():
            figures["server_profile"] = {**summary(self.profile_file), "raw": str(self.profile_file)}
        return figures

    def _stored(self) -> tuple[int, dict[str, Any]]:
        """Responses in the database file: their count, and participant token hash -> choices on the poll.
        (bench/deployments.py reads the same from PostgreSQL.)"""
        database = self.workdir / "handsup.db"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
            total = db.execute("SELECT count(*) FROM response").fetchone()[0]
            rows = db.execute(
                "SELECT p.token_hash, r.payload FROM response r JOIN participant p ON p.id = r.participant_id"
                " WHERE r.activity_id = ?",
                (self.poll_id,),
            )
            return total, {token_hash: json.loads(payload).get("choices") for token_hash, payload in rows.fetchall()}

    def _persisted(self, answers: dict[str, int]) -> dict[str, Any]:
        total, stored = self._stored()
        matching = sum(1 for token, round_ in answers.items() if stored.get(hash_token(token)) == [round_])
        return {
            "votes_persisted": total,
            "participants_with_acked_vote": len(answers),
            "acked_answers_persisted": matching,
            "acked_answers_lost": len(answers) - matching,
        }

    def stored_participants(self, tokens: list[str], session_id: int) -> dict[str, Any]:
        """After the stop: a session's participant rows, and how many of these phones (those that joined) have
        none. The surge's check: a phone that received its first stage must be stored, however busy the writer."""
        database = self.workdir / "handsup.db"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
            rows = db.execute("SELECT token_hash FROM participant WHERE session_id = ?", (session_id,))
            stored = {token_hash for (token_hash,) in rows.fetchall()}
        return {
            "participants_stored": len(stored),
            "joined_not_stored": sum(1 for token in tokens if hash_token(token) not in stored),
        }

    # --- the driver's side --------------------------------------------------------------------------------------

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def prepare(self, http: httpx.AsyncClient) -> None:
        """Start a session from the example deck and go to its widest single-choice poll."""
        response = await http.post(f"{self.url}/api/v1/sessions", json={"deck_slug": DECK}, headers=self._auth)
        response.raise_for_status()
        session = response.json()
        self.session_id, self.code = session["id"], session["code"]
        activities = session["activities"]
        poll, following = _widest_poll(activities)
        self.poll_id, self.next_id = poll["id"], following["id"]
        self.rounds_limit = len(poll["config"]["options"])
        await self._control(http, {"action": "goto", "activity_id": self.poll_id})

    async def _control(self, http: httpx.AsyncClient, body: dict[str, Any]) -> None:
        response = await http.post(
            f"{self.url}/api/v1/sessions/{self.session_id}/control", json=body, headers=self._auth
        )
        response.raise_for_status()

    async def join(self, http: httpx.AsyncClient) -> Joined:
        """What a phone does with the join link: the page (which joins and sets the cookie), then its socket."""
        return Joined(await fetch_page("127.0.0.1", self.port, f"/{self.code}", COOKIE))

    def participant_socket(self, joined: Joined) -> tuple[str, dict[str, str]]:
        url = f"ws://127.0.0.1:{self.port}/ws/participant/{self.code}"
        return url, {"Cookie": f"handsup_participant={joined.token}"}

    async def presenter_socket(self, http: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        """Sign in through the real login form (own cookie jar), then use its session cookie on the socket."""
        password = (self.workdir / "password").read_text()
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as browser:
            page = await browser.get("/login")
            found = CSRF.search(page.text)
            if found is None:
                raise RuntimeError("the login page has no csrf_token field")
            response = await browser.post(
                "/login", data={"csrf_token": found.group(1), "email": EMAIL, "password": password, "next": "/present"}
            )
            if response.status_code != 303:
                raise RuntimeError(f"login failed: {response.status_code} {response.text[:200]}")
            cookie = browser.cookies.get("handsup_session")
        return f"ws://127.0.0.1:{self.port}/ws/presenter/{self.session_id}", {"Cookie": f"handsup_session={cookie}"}

    def vote(self, round_: int) -> str:
        """What htmx's ws extension sends for the poll form: its fields plus HEADERS (which the server ignores)."""
        form = f"form-{self.poll_id}"
        headers = {
            "HX-Request": "true",
            "HX-Trigger": form,
            "HX-Trigger-Name": None,
            "HX-Target": form,
            "HX-Current-URL": f"http://127.0.0.1:{self.port}/{self.code}",
        }
        return json.dumps({"activity": str(self.poll_id), "choice": str(round_), "HEADERS": headers})

    def classify(self, text: str) -> Kind:
        head = text.lstrip()[:40]
        if head.startswith('<p id="status-'):
            return Kind.ACK if "Received" in text else Kind.REFUSED
        if head.startswith('<p id="connection"'):
            return Kind.REFUSED
        if head.startswith('<section id="stage"'):
            return Kind.STAGE
        return Kind.OTHER

    def folded(self, text: str) -> int | None:
        """Votes folded into the poll's bars: round r votes option r, so sum((r + 1) * count_r) counts every vote."""
        start = text.find(f'id="results-{self.poll_id}"')
        if start < 0:
            return None
        end = text.find("</div>", start)
        counts = [int(n) for n in COUNT.findall(text, start, end if end > 0 else len(text))]
        return sum((option + 1) * count for option, count in enumerate(counts))

    stage_steps: tuple[str, ...] = (
        "close",
        "next",
    )  # close voting (a personal stage per voter), then the next activity

    async def change_stage(self, step: str, http: httpx.AsyncClient) -> None:
        if step == "close":
            await self._control(http, {"action": "close", "activity_id": self.poll_id})
        else:
            await self._control(http, {"action": "next"})

    def is_new_stage(self, step: str, text: str) -> bool:
        if step == "close":
            return f'id="title-{self.poll_id}"' in text and "Voting is closed" in text
        return f'id="title-{self.next_id}"' in text


def _widest_poll(activities: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The single-choice poll with the most options that has an activity after it (for the slide change)."""
    candidates = [
        (a, activities[i + 1])
        for i, a in enumerate(activities[:-1])
        if a["kind"] == "poll" and not a["config"].get("multiple")
    ]
    if not candidates:
        raise RuntimeError(f"the deck {DECK!r} has no single-choice poll followed by another activity")
    return max(candidates, key=lambda pair: len(pair[0]["config"]["options"]))


def _server_env(port: int, data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDSUP_")}
    env.update(
        HANDSUP_ENV="test",
        HANDSUP_HOST="127.0.0.1",
        HANDSUP_PORT=str(port),
        HANDSUP_DATA_DIR=str(data_dir),
        HANDSUP_SECRET_KEY=secrets.token_urlsafe(48),
        # Every simulated phone comes from loopback: one "address" holds the whole crowd's sockets.
        HANDSUP_CONNECTIONS_PER_ADDRESS="1000000",
        **extra,
    )
    return env


def hash_token(token: str) -> str:
    """How the server stores a participant's cookie (SHA-256, hex): the key of the database check."""
    return hashlib.sha256(token.encode()).hexdigest()


def log_problems(log: Path) -> dict[str, Any]:
    """Errors the server logged during the run (tracebacks, ERROR and WARNING lines), counted and sampled."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    flagged = [line for line in lines if line.startswith(("ERROR", "WARNING", "Traceback"))]
    return {"server_log_problems": len(flagged), "server_log_samples": sorted(set(flagged))[:8]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Drive one Handsup server with simulated participants.")
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--votes", type=int, default=400)
    parser.add_argument("--rate", type=float, default=400.0, help="offered votes per second")
    parser.add_argument("--join-rate", type=float, default=250.0)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds between the ramp and the burst")
    parser.add_argument("--server-gc", action="store_true", help="time the server's garbage-collector pauses")
    args = parser.parse_args(argv)
    raise_open_files(OPEN_FILES)
    profile = Profile("custom", args.participants, args.votes, args.rate, args.join_rate, 100, args.idle)
    with tempfile.TemporaryDirectory(prefix="handsup-bench-") as workdir:
        figures = asyncio.run(run_target(HandsupTarget(Path(workdir), gc_stats=args.server_gc), profile))
    print(json.dumps(figures, indent=2))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
