"""Processes under test: start one on a free loopback port, wait for /healthz, read its RSS and CPU, stop it."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft open-files limit towards `wanted` (children inherit it); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def rss_kib(pid: int) -> int:
    """Resident set size of a live process, from /proc/<pid>/status (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process, from /proc/<pid>/stat (utime + stime)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; fields[0] is the state (field 3)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime is field 14, stime field 15


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants, live or ended: each live one's own time plus what its ended
    children used (cutime + cstime, counted once reaped). PostgreSQL runs a process per connection, nginx a worker."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            parents.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry.name))
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            if current == pid:
                raise
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += sum(int(v) for v in fields[11:15]) / CLOCK_TICKS  # utime, stime, cutime, cstime (fields 14-17)
        pending.extend(parents.get(current, []))
    return total


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores, every process), from the first line of /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10])  # guest time is already counted in user and nice
    return (sum(fields) - idle - guest) / CLOCK_TICKS


def client_cpu_seconds() -> float:
    """This (load generator) process's own CPU time, user plus system, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class ServerProcess:
    """A server under test, started by us, with its log file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """Terminate (SIGTERM, uvicorn's graceful stop), then kill if it does not exit in time; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        return self.process.returncode


def start_process(argv: list[str], env: dict[str, str], port: int, log: Path, ready_s: float = 60.0) -> ServerProcess:
    """Start a server and wait until GET /healthz answers 200 (bounded); raises with the log if it does not."""
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = ServerProcess(process, url, log)
    deadline = time.monotonic() + ready_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{argv[2:]} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{argv[2:]} did not become ready in {ready_s:.0f} s:\n{server.log_tail()}")
