"""Accounts and API tokens (used by the sign-in pages, the setup link and the CLI)."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.models import ApiToken, Role, User
from server.security import API_TOKEN_PREFIX, hash_password, new_token, password_problem, verify_password
from server.sessions import hash_token


class AccountRefused(ValueError):
    """An account that cannot be created as asked; the message says why."""


def clean_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(ch.isspace() for ch in email):
        raise AccountRefused(f"{email!r} is not an email address.")
    return email


async def count_users(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as db:
        return int((await db.exec(select(func.count()).select_from(User))).one())


async def add_user(
    maker: async_sessionmaker[AsyncSession], email: str, password: str, role: Role, *, only_if_first: bool = False
) -> User:
    """A new account. With only_if_first, refused unless the server has none yet (the setup link)."""
    email = clean_email(email)
    problem = password_problem(password)
    if problem:
        raise AccountRefused(problem)
    async with maker() as db:
        try:
            async with db.begin():
                if only_if_first and (await db.exec(select(func.count()).select_from(User))).one():
                    raise AccountRefused("This server already has an administrator; sign in instead.")
                user = User(email=email, password_hash=hash_password(password), role=role)
                db.add(user)
        except IntegrityError:
            raise AccountRefused(f"An account for {email} exists already.") from None
    return user


async def authenticate(maker: async_sessionmaker[AsyncSession], email: str, password: str) -> User | None:
    """The user with this email and password, or None (same answer for an unknown email or a wrong password)."""
    async with maker() as db:
        user = (await db.exec(select(User).where(User.email == email.strip().lower()))).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)  # spend the same time, so emails cannot be probed by timing
        return None
    return user if verify_password(user.password_hash, password) else None


async def create_token(maker: async_sessionmaker[AsyncSession], email: str, name: str = "") -> str:
    """A new API token for a user; only its hash is stored, so this is the one time it is seen."""
    token = new_token(API_TOKEN_PREFIX)
    async with maker() as db, db.begin():
        user = (await db.exec(select(User).where(User.email == clean_email(email)))).first()
        if user is None or user.id is None:
            raise AccountRefused(f"There is no account for {email}.")
        db.add(ApiToken(user_id=user.id, name=name[:100], token_hash=hash_token(token)))
    return token


_DUMMY_HASH = hash_password("handsup-timing-equaliser")
