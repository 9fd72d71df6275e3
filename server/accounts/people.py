"""Accounts and API tokens: signing in, passwords, tokens, roles, disabling (used by the pages, the JSON API and
the CLI)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.i18n import _
from server.accounts.security import API_TOKEN_PREFIX, hash_password, new_token, password_problem, verify_password
from server.models import ApiToken, Role, User, utcnow
from server.sessions import hash_token

log = logging.getLogger("handsup")
TOKEN_NAME_LENGTH = 100


class AccountRefused(ValueError):
    """An account change that cannot be made as asked; the message says why, for the person who asked."""


class WrongPassword(AccountRefused):
    """The current password, asked again before a change, was not right."""


class AccountDisabled(AccountRefused):
    """The password was right, but an administrator disabled the account."""


class NoSuchAccount(AccountRefused):
    """The account an administrator's change names does not exist."""


class NoSuchToken(LookupError):
    """No API token with that id (among the caller's own, where it matters)."""


def clean_email(email: str) -> str:
    """An email address checked as an address (email-validator: the syntax of RFC 5322 and 6531, internationalised
    domains in their Unicode form, no DNS lookup), lower-cased as accounts are matched; AccountRefused says why not."""
    given = email.strip()
    shown = repr(given if len(given) <= 80 else given[:77] + "...")
    if len(given) > 254:
        raise AccountRefused(
            _("{email} is not an email address: it is longer than 254 characters.").format(email=shown)
        )
    markup = sorted({ch for ch in given if ch in _NOT_IN_ADDRESSES})
    if markup:
        refusal = _("{email} is not an email address: it holds {characters}, which no address may.")
        raise AccountRefused(refusal.format(email=shown, characters=" ".join(markup)))
    try:
        checked = validate_email(given, check_deliverability=False)
    except EmailNotValidError as problem:
        raise AccountRefused(
            _("{email} is not an email address: {reason}").format(email=shown, reason=problem)
        ) from None
    return checked.normalized.lower()


# Characters that only a quoted local part could hold: refused outright, with a message naming them (email-validator
# would refuse them too, but with a message about what follows the address, as if it were a display name).
_NOT_IN_ADDRESSES = frozenset('<>()[]\\,;:"')


async def count_users(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as db:
        return int((await db.exec(select(func.count()).select_from(User))).one())


async def add_user(
    maker: async_sessionmaker[AsyncSession],
    email: str,
    password: str | None,
    role: Role,
    *,
    only_if_first: bool = False,
    temporary: bool = False,
) -> User:
    """A new account. With only_if_first, refused unless the server has none yet (the setup link); with temporary,
    the password is one an admin passes on, and the person chooses their own at first sign-in. Without a password
    (None), the account signs in only through a single sign-on provider (server/accounts/identities.py)."""
    email = clean_email(email)
    problem = password_problem(password) if password is not None else None
    if problem:
        raise AccountRefused(problem)
    async with maker() as db:
        try:
            async with db.begin():
                if only_if_first and (await db.exec(select(func.count()).select_from(User))).one():
                    raise AccountRefused("This server already has an administrator; sign in instead.")
                hashed = hash_password(password) if password is not None else ""
                user = User(email=email, password_hash=hashed, role=role, password_temporary=temporary and bool(hashed))
                db.add(user)
        except IntegrityError:
            raise AccountRefused(f"An account for {email} exists already.") from None
    return user


async def authenticate(maker: async_sessionmaker[AsyncSession], email: str, password: str) -> User | None:
    """The user with this email and password, or None (same answer for an unknown email or a wrong password).

    Raises AccountDisabled for a disabled account, and only once the password was right: who does not know the
    password learns nothing about the account.
    """
    async with maker() as db:
        user = (await db.exec(select(User).where(User.email == email.strip().lower()))).first()
    if user is None or not user.has_password:
        verify_password(_DUMMY_HASH, password)  # spend the same time, so emails cannot be probed by timing
        return None
    if not verify_password(user.password_hash, password):
        return None
    if user.pending:  # made by a single sign-on (it has no password), so never reached; kept as a guard
        return None
    if user.disabled_at is not None:
        raise AccountDisabled("This account is disabled. Ask an administrator to enable it again.")
    return user


async def change_password(
    maker: async_sessionmaker[AsyncSession], user_id: int, current: str, new: str, again: str
) -> User:
    """Set a new password once the current one is given. The account's other browsers are signed out: its session
    generation goes up, and a browser signed in under an older one is not signed in any more
    (server/accounts/access.py)."""
    async with maker() as db, db.begin():
        user = await db.get(User, user_id)
        if user is None:
            raise AccountRefused("This account does not exist any more.")
        if not verify_password(user.password_hash, current):
            raise WrongPassword("The current password is not right. Nothing was changed.")
        if new != again:
            raise AccountRefused("The two new passwords differ. Type the same new password twice.")
        problem = password_problem(new) or _weak_for(user, new, current)
        if problem:
            raise AccountRefused(
                f"The new password is not accepted: {problem[0].lower()}{problem[1:]} Nothing was changed."
            )
        user.password_hash = hash_password(new)
        user.session_generation += 1
        user.password_temporary = False
        db.add(user)
    return user


def _weak_for(user: User, new: str, current: str) -> str | None:
    """Why a new password is refused for this account in particular, or None."""
    if new == current:
        return "Choose a new password, not the current one."
    local = user.email.partition("@")[0]
    if user.email in new.lower() or (len(local) >= 4 and local in new.lower()):
        return "Choose a password that does not contain your email address."
    return None


def one_time_password() -> str:
    """A password an admin passes on to a new account's owner (about 96 bits, easy to copy)."""
    return secrets.token_urlsafe(12)


async def create_token(
    maker: async_sessionmaker[AsyncSession], email: str, name: str = "", *, limit: int | None = None
) -> str:
    """A new API token for a user; only its hash is stored, so this is the one time it is seen. With a limit, refused
    when the account holds that many tokens already (revoked ones do not count)."""
    name = " ".join(name.split())
    if len(name) > TOKEN_NAME_LENGTH:
        raise AccountRefused(f"Use at most {TOKEN_NAME_LENGTH} characters for the token's name.")
    token = new_token(API_TOKEN_PREFIX)
    async with maker() as db, db.begin():
        user = (await db.exec(select(User).where(User.email == clean_email(email)))).first()
        if user is None or user.id is None:
            raise AccountRefused(f"There is no account for {email}.")
        if limit is not None and len(await _active_tokens(db, user.id)) >= limit:
            raise AccountRefused(
                f"This account has {limit} API tokens already, the most it may hold. Revoke one it no longer needs."
            )
        db.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token)))
    return token


async def _active_tokens(db: AsyncSession, user_id: int) -> list[int]:
    query = select(ApiToken.id).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
    return [token_id for token_id in (await db.exec(query)).all() if token_id is not None]


async def tokens_of(maker: async_sessionmaker[AsyncSession], user_id: int) -> list[ApiToken]:
    """An account's API tokens, newest first, revoked ones included (their record stays)."""
    async with maker() as db:
        query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id).desc())
        return list((await db.exec(query)).all())


async def tokens_for_email(maker: async_sessionmaker[AsyncSession], email: str) -> tuple[User, list[ApiToken]]:
    """An account (by email) and its API tokens, for the command line."""
    async with maker() as db:
        user = (await db.exec(select(User).where(User.email == clean_email(email)))).first()
    if user is None or user.id is None:
        raise AccountRefused(f"There is no account for {email}.")
    return user, await tokens_of(maker, user.id)


async def revoke_token(
    maker: async_sessionmaker[AsyncSession], token_id: int, owner_id: int | None
) -> tuple[ApiToken, bool]:
    """Revoke an API token: it is refused from the next request on. With owner_id, only that account's own token
    (another's is as missing as one that never was). Revoking a revoked token changes nothing (False)."""
    async with maker() as db, db.begin():
        token = await db.get(ApiToken, token_id)
        if token is None or (owner_id is not None and token.user_id != owner_id):
            raise NoSuchToken(f"There is no API token {token_id}" + (" among yours." if owner_id else "."))
        if token.revoked_at is not None:
            return token, False
        token.revoked_at = utcnow()
        db.add(token)
    return token, True


# --- administrators: people, roles, disabling ------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """An account as the people page lists it."""

    user: User
    tokens: int  # API tokens it holds (not revoked)


async def people(maker: async_sessionmaker[AsyncSession]) -> list[Person]:
    """Every account, by email, with how many API tokens each holds."""
    async with maker() as db:
        users = (await db.exec(select(User).order_by(col(User.email)))).all()
        counts = select(ApiToken.user_id, func.count()).where(col(ApiToken.revoked_at).is_(None))
        held = dict((await db.exec(counts.group_by(col(ApiToken.user_id)))).all())
    return [Person(user, int(held.get(user.id or 0, 0))) for user in users]


async def set_role(maker: async_sessionmaker[AsyncSession], actor: User, user_id: int, role: Role) -> User:
    """Give an account another role; never the server's last (enabled) administrator's away."""
    async with maker() as db, db.begin():
        user = await _account(db, user_id)
        if user.role == Role.admin and role != Role.admin and user.disabled_at is None:
            await _keep_an_admin(db, user, f"{user.email} is the only administrator: make someone else one first.")
        before, user.role = user.role, role
        db.add(user)
    log.warning("account %s: role %s -> %s by %s", user.email, before, role, actor.email)
    return user


async def set_disabled(maker: async_sessionmaker[AsyncSession], actor: User, user_id: int, disabled: bool) -> User:
    """Disable an account (it can neither sign in nor use its tokens; its browsers are signed out) or enable it.

    Nobody disables their own account, nor the last enabled administrator: the server would have nobody to run it.
    """
    async with maker() as db, db.begin():
        user = await _account(db, user_id)
        if disabled and user.disabled_at is None:
            if user.id == actor.id:
                raise AccountRefused("You cannot disable your own account: ask another administrator.")
            if user.role == Role.admin:
                await _keep_an_admin(db, user, f"{user.email} is the only administrator left enabled.")
            user.disabled_at = utcnow()
            user.session_generation += 1  # enabling it later does not bring its old browser sessions back
        elif not disabled:
            user.disabled_at = None
        db.add(user)
    log.warning("account %s %s by %s", user.email, "disabled" if disabled else "enabled", actor.email)
    return user


async def _account(db: AsyncSession, user_id: int) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NoSuchAccount("There is no such account.")
    return user


async def _keep_an_admin(db: AsyncSession, losing: User, refusal: str) -> None:
    """Refuse unless an enabled administrator other than `losing` remains. The rows are locked (PostgreSQL), so two
    administrators demoting each other at once cannot leave none."""
    query = select(User.id).where(User.role == Role.admin, col(User.disabled_at).is_(None)).with_for_update()
    if not [admin for admin in (await db.exec(query)).all() if admin != losing.id]:
        raise AccountRefused(f"{refusal} Nothing was changed.")


_DUMMY_HASH = hash_password("handsup-timing-equaliser")
