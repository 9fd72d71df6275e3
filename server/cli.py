"""The `handsup` command: serve, manage accounts and tokens, check decks, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import io
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import segno
from pydantic import ValidationError
from pydantic_settings import SettingsError

from activities import registry
from server.config import ConfigError, Settings, get_settings, public_url_problem
from server.decks import DeckInvalid, parse_deck
from server.network import NoNetwork, http_url, is_any_address, is_loopback, lan_address, loopback_host

if TYPE_CHECKING:
    from datetime import datetime

    from server.archives.format import Scope
    from server.models import ApiToken

log = logging.getLogger("handsup")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="handsup", description="Self-hosted, real-time workshop facilitation.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (settings from HANDSUP_* variables)")
    serve.add_argument("--host", help="address to listen on (HANDSUP_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (HANDSUP_PORT)")
    serve.add_argument(
        "--lan",
        action="store_true",
        help="room mode: listen on the network (every interface, or --host) and put this machine's address there in "
        "join links and QR codes, so phones on the same Wi-Fi can join",
    )
    serve.add_argument("--public-url", help="the address phones open, for join links and QR codes (HANDSUP_PUBLIC_URL)")

    user = commands.add_parser("user", help="accounts").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create an account")
    add.add_argument("email")
    add.add_argument("--role", choices=["admin", "organizer", "presenter"], default="presenter")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-file", type=Path, help="read the password from this file (else: a prompt)")
    how.add_argument(
        "--no-password",
        action="store_true",
        help="no password: its owner signs in through a single sign-on provider (HANDSUP_OIDC_PROVIDERS)",
    )

    token = commands.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="print a new API token for an account")
    create.add_argument("email")
    create.add_argument("--name", default="", help="what the token is for")
    listing = token.add_parser("list", help="an account's API tokens (never their secrets)")
    listing.add_argument("email")
    revoke = token.add_parser("revoke", help="revoke an API token: it is refused from the next request on")
    revoke.add_argument("id", type=int, help="the token's id (from `handsup token list`)")

    deck = commands.add_parser("deck", help="decks").add_subparsers(dest="action", required=True)
    check = deck.add_parser("check", help="validate deck files; every error with its line")
    check.add_argument("files", nargs="+", type=Path)
    deck_export = deck.add_parser("export", help="write a stored deck's YAML text, byte for byte, to a file or stdout")
    deck_export.add_argument("slug", help="the deck's slug (`handsup deck export distributed-leadership`)")
    deck_export.add_argument("-o", "--output", type=Path, help="the file to write (else: standard output)")
    deck_import = deck.add_parser("import", help="store a YAML file as a new deck of an account's, as it is")
    deck_import.add_argument("file", type=Path)
    deck_import.add_argument("--owner", metavar="EMAIL", required=True, help="the account the deck goes to")

    archive = commands.add_parser("archive", help="archives").add_subparsers(dest="action", required=True)
    export = archive.add_parser("export", help="write a session's, cohort's or institute's archive (ZIP) to a file")
    subject = export.add_mutually_exclusive_group(required=True)
    subject.add_argument("--session", type=int, metavar="ID", help="a session's id")
    subject.add_argument("--cohort", type=int, metavar="ID", help="a cohort's id: the cohort and all its sessions")
    subject.add_argument("--institute", type=int, metavar="ID", help="an institute's id: every cohort and session")
    export.add_argument("-o", "--output", type=Path, required=True, help="the ZIP file to write")

    restore = archive.add_parser("import", help="import an archive (ZIP) as a record: ended sessions, answers, results")
    restore.add_argument("file", type=Path, help="the archive to import")
    restore.add_argument("--owner", metavar="EMAIL", help="the organizer or admin they go to (else the first admin)")

    db = commands.add_parser("db", help="the database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply migrations")

    args = parser.parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except ValidationError as error:
        for item in error.errors():
            message = str(item["msg"]).removeprefix("Value error, ")
            setting = "_".join(map(str, item["loc"])).upper()
            _say(f"handsup: HANDSUP_{setting}: {message}" if setting else f"handsup: {message}")
        return 2
    except ConfigError as error:
        _say(f"handsup: {error}")
        return 2
    except SettingsError as error:  # a list or table setting that is not JSON (HANDSUP_OIDC_PROVIDERS)
        field = str(error).partition('field "')[2].partition('"')[0]
        _say(f"handsup: HANDSUP_{field.upper()}: not valid JSON ({error.__cause__ or error})")
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "deck" and args.action == "check":
        return _check_decks(args.files)
    settings = get_settings()
    if args.command == "deck":
        return asyncio.run(_deck_file(settings, args))
    if args.command == "serve":
        return _serve(_serve_settings(settings, args), room=args.lan)
    if args.command == "db":
        from server.db import upgrade

        upgrade(settings.resolved_database_url)
        _say("Database is up to date.")
        return 0
    if args.command == "archive" and args.action == "import":
        return asyncio.run(_import_archive(settings, args.file, args.owner))
    if args.command == "archive":
        scope = next(scope for scope in ("session", "cohort", "institute") if getattr(args, scope) is not None)
        return asyncio.run(_export_archive(settings, cast("Scope", scope), getattr(args, scope), args.output))
    return asyncio.run(_accounts(settings, args))


async def _export_archive(settings: Settings, scope: Scope, scope_id: int, output: Path) -> int:
    """Write the archive next to `output` and rename it into place: never a half-written archive under its name."""
    from server.archives.build import ArchiveSources, write_archive
    from server.db import create_engine, session_factory, upgrade
    from server.live.fragments import make_environment
    from server.sessions import NotFound

    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    environment = make_environment(registry, settings.time_zone)
    sources = ArchiveSources(
        engine, session_factory(engine), registry, environment, _in_thread, time_zone=settings.time_zone
    )
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as target:
            info = await write_archive(target, sources, scope, scope_id, _progress(sys.stderr))
    except NotFound:
        partial.unlink(missing_ok=True)
        _say(f"handsup: there is no {scope} {scope_id}")
        return 1
    except OSError as error:
        partial.unlink(missing_ok=True)
        _say(f"handsup: {output}: cannot write: {error.strerror}")
        return 1
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        await engine.dispose()
    partial.replace(output)
    size, counts = output.stat().st_size, info.counts
    _say(f"Wrote {output} ({size:,} bytes; {_sessions(counts['sessions'])}, {counts['responses']:,} responses).")
    return 0


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """The command line's offload: drawing runs in a thread (the server uses a worker process)."""
    return await asyncio.to_thread(fn, *args)


PROGRESS_WIDTH = 30


def _progress(stream: TextIO) -> Callable[[int, int], None]:
    """A progress bar on a terminal; plain "archived 3 of 8 sessions" lines otherwise (logs, pipes)."""
    terminal = stream.isatty()

    def show(done: int, total: int) -> None:
        if terminal:
            filled = PROGRESS_WIDTH * done // max(total, 1)
            bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
            stream.write(f"\r[{bar}] archived {done} of {_sessions(total)}" + ("\n" if done == total else ""))
        elif done:
            stream.write(f"archived {done} of {_sessions(total)}\n")
        stream.flush()

    return show


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"


async def _import_archive(settings: Settings, path: Path, owner: str | None) -> int:
    from server.archives.restore import ArchiveRefused, NoOwner, import_archive, import_owner
    from server.db import create_engine, session_factory, upgrade

    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    maker = session_factory(engine)
    try:
        user_id = await import_owner(maker, owner)
        with path.open("rb") as file:
            result = await import_archive(maker, registry, file, user_id)
    except ArchiveRefused as refused:
        _say(f"handsup: {path}: {refused} Nothing was imported.")
        return 1
    except NoOwner as missing:
        _say(f"handsup: {missing}")
        return 1
    except OSError as error:
        _say(f"handsup: {path}: cannot read: {error.strerror}")
        return 1
    finally:
        await engine.dispose()
    _say(result.summary, stream=sys.stdout)
    return 0


async def _deck_file(settings: Settings, args: argparse.Namespace) -> int:
    """`deck export SLUG`: the stored text as it is; `deck import FILE --owner EMAIL`: a new deck of the account's,
    stored as it is, problems and all (a draft to fix in the editor)."""
    from sqlmodel import col, select

    from server.db import create_engine, session_factory, upgrade
    from server.decks import deck_files
    from server.decks.store import DeckRefused, import_yaml
    from server.models import Deck, User

    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    maker = session_factory(engine)
    try:
        if args.action == "export":
            async with maker() as db:
                deck = (await db.exec(select(Deck).where(Deck.slug == args.slug))).first()
            if deck is None:
                _say(f"handsup: there is no deck {args.slug!r}")
                return 1
            data = deck.source.encode("utf-8")
            if args.output is None:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            else:
                args.output.write_bytes(data)
                _say(f"Wrote {args.output} ({deck.title!r}, {len(data):,} bytes).")
            return 0
        async with maker() as db:
            owner = (await db.exec(select(User).where(col(User.email) == args.owner.strip().lower()))).first()
        if owner is None:
            _say(f"handsup: there is no account for {args.owner}.")
            return 1
        reserved = {path.stem for path in deck_files(settings.decks_dir)}
        deck = await import_yaml(maker, registry, owner, args.file.read_bytes(), name=args.file.name, reserved=reserved)
    except DeckRefused as refused:
        _say(f"handsup: {args.file}: {refused.detail} Nothing was stored.")
        return 1
    except OSError as error:
        _say(f"handsup: {getattr(args, 'file', None) or args.output}: {error.strerror}")
        return 1
    finally:
        await engine.dispose()
    problems = f", {deck.problems} problem{'s' if deck.problems != 1 else ''} to fix" if deck.problems else ""
    _say(f"Stored deck {deck.id} {deck.title!r} as {deck.slug!r} for {owner.email}{problems}.", stream=sys.stdout)
    return 0


def _serve_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """What `serve` runs with: --host, --port and --public-url over HANDSUP_*; --lan listens on the network and, unless
    a public URL is given, makes this machine's address there the one join links and QR codes carry."""
    updates: dict[str, Any] = {key: getattr(args, key) for key in ("host", "port") if getattr(args, key) is not None}
    if args.public_url is not None:
        problem = public_url_problem(args.public_url)
        if problem:
            raise ConfigError(f"--public-url: {problem}")
        updates["public_url"] = args.public_url.strip().rstrip("/")
    if args.lan:
        host = args.host or "0.0.0.0"
        if is_loopback(host):
            raise ConfigError(f"--lan: --host {host} is this machine only; leave --host out to listen on the network")
        updates["host"] = host
        if not updates.get("public_url", settings.public_url):
            try:
                address = lan_address() if is_any_address(host) else host
            except NoNetwork as error:
                raise ConfigError(f"--lan: {error}") from None
            updates["public_url"] = http_url(address, updates.get("port", settings.port))
    return settings.model_copy(update=updates)


def _serve(settings: Settings, *, room: bool) -> int:
    import uvicorn

    from server.app import create_app
    from server.logs import log_config

    app = create_app(settings)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # uvicorn closes websockets (1012) but waits for every HTTP response to finish, and an event stream
            # never does: end them first, so phones on the fallback reconnect once the server is back.
            services = getattr(app.state, "services", None)
            if services is not None:
                services.hub.end_streams()
            await super().shutdown(sockets)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            services = getattr(app.state, "services", None)
            if services is not None:  # the join gate reads how many connections wait to be accepted
                services.hub.gate.watch_listeners(s for server in self.servers for s in server.sockets)
            if self.started:  # last on the console, below uvicorn's lines: the address and QR code to show the room
                _announce(settings, room=room)

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws="auto",
        # Headroom over our own limit: a message just over it gets a readable refusal, not a 1009 close.
        ws_max_size=4 * settings.websocket_message_limit,
        ws_per_message_deflate=False,
        backlog=4096,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=log_config(settings),
        log_level=settings.log_level,
        access_log=False,  # server/metrics.py logs each request, with its duration, on handsup.access
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else 3  # 3: uvicorn's own exit code when it could not start


def _announce(settings: Settings, *, room: bool) -> None:
    """Say where phones join: in room mode the address with a QR code to scan; otherwise, a warning when the join
    address is this machine only (loopback), which no phone in the room can open."""
    url = settings.public_url or (None if is_any_address(settings.host) else http_url(settings.host, settings.port))
    unreachable = bool(url and loopback_host(url))
    if not (room or unreachable):
        return
    if settings.log_format == "json":
        if unreachable:
            log.warning("Phones cannot open join_url: it is this machine only", extra={"join_url": url})
        else:
            log.info("Room mode: phones on the same network join at join_url", extra={"join_url": url})
        return
    if unreachable:
        sys.stderr.write(
            f"\n  Phones cannot open {url}: it is this machine only, and the join line and QR codes show it."
            "\n  To run a session in a room, restart with `make run LAN=1` (or `handsup serve --lan`), or set "
            "HANDSUP_PUBLIC_URL\n  to the address phones open (a proxy's, in production).\n\n"
        )
    elif url:  # room mode always has one (_serve_settings)
        sys.stderr.write(
            f"\n  Room mode. Phones on the same Wi-Fi open {url} (or scan this) and type the session's code:\n\n"
        )
        sys.stderr.write(console_qr(url, colours=sys.stderr.isatty()))
        sys.stderr.write(
            f"\n  Present from {url}/present. If phones do not load it, let port {settings.port} through this "
            "machine's firewall;\n  on a guest Wi-Fi that keeps devices apart, put the laptop and the phones on a "
            "phone's hotspot.\n\n"
        )
    sys.stderr.flush()


def console_qr(url: str, *, colours: bool) -> str:
    """A QR code of `url` for the console, two rows of modules a line. On a terminal, black on white in colours of
    its own, so a camera reads it on a light or a dark theme alike; in a log file, segno's plain blocks."""
    code = segno.make(url, error="m")
    if not colours:
        out = io.StringIO()
        code.terminal(out=out, compact=True, border=2)
        return out.getvalue()
    rows = [list(row) for row in code.matrix_iter(border=2)]
    rows += [[0] * len(rows[0])] * (len(rows) % 2)  # an even count of rows: one more of the light quiet zone
    lines = []
    for upper, lower in zip(rows[::2], rows[1::2], strict=True):
        # The upper half block: foreground black (30) or white (97) above, background black (40) or white (107) below.
        cells = (
            f"\033[{30 if top else 97};{40 if bottom else 107}m\u2580" for top, bottom in zip(upper, lower, strict=True)
        )
        lines.append("".join(cells) + "\033[0m\n")
    return "".join(lines)


async def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    from server.accounts.people import (
        AccountRefused,
        NoSuchToken,
        add_user,
        create_token,
        revoke_token,
        tokens_for_email,
    )
    from server.db import create_engine, session_factory, upgrade
    from server.models import Role

    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    maker = session_factory(engine)
    try:
        if args.command == "user":
            password = None if args.no_password else _password(args.password_file)
            user = await add_user(maker, args.email, password, Role(args.role))
            how = "" if user.has_password else ", which signs in through single sign-on only"
            _say(f"Created {user.role} account {user.email}{how}.")
        elif args.action == "list":
            user, tokens = await tokens_for_email(maker, args.email)
            _say(_token_table(tokens) if tokens else f"{user.email} has no API tokens.", stream=sys.stdout)
        elif args.action == "revoke":
            token, revoked = await revoke_token(maker, args.id, owner_id=None)
            named = f"API token {token.id}{f' ({token.name})' if token.name else ''}"
            _say(f"Revoked {named}." if revoked else f"{named} was revoked already.")
        else:
            _say(await create_token(maker, args.email, args.name), stream=sys.stdout)
        return 0
    except (AccountRefused, NoSuchToken) as refused:
        _say(f"handsup: {refused}")
        return 1
    finally:
        await engine.dispose()


def _token_table(tokens: list[ApiToken]) -> str:
    """One line per token: id, state, created, last used, name (tab-separated, for people and for `cut`)."""

    def day(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "never"

    lines = ["id\tstate\tcreated\tlast used\tname"]
    for token in tokens:
        state = f"revoked {day(token.revoked_at)}" if token.revoked_at else "active"
        lines.append(f"{token.id}\t{state}\t{day(token.created_at)}\t{day(token.last_used_at)}\t{token.name}")
    return "\n".join(lines)


def _password(path: Path | None) -> str:
    if path is not None:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("handsup: the two passwords differ")
    return first


def _check_decks(files: list[Path]) -> int:
    failed = 0
    for path in files:
        try:
            deck = parse_deck(path.read_text(encoding="utf-8"), registry)
        except OSError as error:
            _say(f"{path}: cannot read: {error.strerror}")
            failed += 1
        except UnicodeDecodeError as error:
            _say(f"{path}: not UTF-8 text (byte {error.start}); save the deck as UTF-8")
            failed += 1
        except DeckInvalid as invalid:
            for problem in invalid.problems:
                where = f"{path}:{problem.line}" if problem.line else str(path)
                _say(f"{where}: {problem.path + ': ' if problem.path else ''}{problem.message}")
            failed += 1
        else:
            _say(f"{path}: ok ({deck.title!r}, {len(deck.activities)} activities)", stream=sys.stdout)
    return 1 if failed else 0


def _say(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stderr)  # noqa: T201  (a command-line tool talks on its streams)


if __name__ == "__main__":
    raise SystemExit(main())
