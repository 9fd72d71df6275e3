"""Co-facilitators: accounts a session's presenter adds to run the session with them.

A co-facilitator sees and controls the session as its presenter does (server/accounts/access.py:may_present); only the
presenter (or an admin) changes who they are (the routes ask for an OwnedSession).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.i18n import _
from server.models import Session, SessionFacilitator, User


class FacilitatorRefused(ValueError):
    """A change to a session's co-facilitators that cannot be made; the message says why."""


async def facilitators(maker: async_sessionmaker[AsyncSession], session_id: int) -> list[User]:
    """A session's co-facilitators, in the order they were added."""
    async with maker() as db:
        query = (
            select(User)
            .join(SessionFacilitator, col(SessionFacilitator.user_id) == col(User.id))
            .where(SessionFacilitator.session_id == session_id)
            .order_by(col(SessionFacilitator.added_at))
        )
        return list((await db.exec(query)).all())


async def add_facilitator(maker: async_sessionmaker[AsyncSession], session: Session, email: str) -> User:
    """Add the account with this email as a co-facilitator (adding one twice changes nothing)."""
    wanted = email.strip().lower()
    async with maker() as db, db.begin():
        user = (await db.exec(select(User).where(User.email == wanted))).first()
        if user is None or user.id is None:
            raise FacilitatorRefused(
                _("There is no account for {email}; an admin can create one.").format(email=wanted)
                if wanted
                else _("There is no account for that address; an admin can create one.")
            )
        if user.id == session.presenter_id:
            raise FacilitatorRefused(f"{user.email} presents this session already.")
        assert session.id is not None
        if await db.get(SessionFacilitator, (session.id, user.id)) is None:
            db.add(SessionFacilitator(session_id=session.id, user_id=user.id))
    return user


async def remove_facilitator(maker: async_sessionmaker[AsyncSession], session: Session, user_id: int) -> None:
    """Take a co-facilitator off the session; they lose access at their next request."""
    async with maker() as db, db.begin():
        row = await db.get(SessionFacilitator, (session.id, user_id))
        if row is None:
            raise FacilitatorRefused(_("That account is not a co-facilitator of this session."))
        await db.delete(row)
