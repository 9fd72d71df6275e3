"""Who a single sign-on lets in: accounts matched by (issuer, subject), the allowed email domains, approval, linking.

An account is found by its identity at the provider (issuer and subject), never by an email alone: an email links a
provider's person to an existing account only when an administrator says so (the people page), or when the server
allows it (HANDSUP_OIDC_LINK_VERIFIED_EMAIL) and the provider vouches that the email is verified. A disabled account
stays out whatever the provider says, and so does one waiting for approval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.i18n import _
from server.accounts.people import AccountRefused, NoSuchAccount, clean_email
from server.config import OidcProvider
from server.models import Role, User, UserIdentity, utcnow

log = logging.getLogger("handsup")


class Refused(Exception):
    """The provider vouched for this person, but this server does not let them in (yet): the message says why."""

    def __init__(self, title: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.title, self.message, self.status = title, message, status


@dataclass(frozen=True)
class Claims:
    """What the server reads of a verified ID token."""

    issuer: str
    subject: str
    email: str  # checked and lower-cased; "" when the provider gave none (or not an address)
    email_verified: bool

    @classmethod
    def of(cls, claims: dict[str, Any], *, emails_verified: bool = False) -> Claims:
        """From a verified ID token's claims; with emails_verified, the provider's email counts as verified whatever
        its `email_verified` claim says (the provider's setting of that name)."""
        email = claims.get("email")
        try:
            cleaned = clean_email(email) if isinstance(email, str) else ""
        except AccountRefused:
            cleaned = ""
        verified = emails_verified or claims.get("email_verified") is True
        return cls(str(claims["iss"]), str(claims["sub"]), cleaned, verified)

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


async def admit(
    maker: async_sessionmaker[AsyncSession], provider: OidcProvider, claims: Claims, *, link_verified_email: bool
) -> User:
    """The account this sign-in opens, created or linked as the settings allow; Refused says why not."""
    async with maker() as db:
        try:
            async with db.begin():
                user, refusal = await _decide(db, provider, claims, link_verified_email)
        except IntegrityError:  # two first sign-ins of one person at once: the other one made the rows
            raise Refused(
                _("Sign in again"), _("Your account was being set up at that moment. Sign in again."), 409
            ) from None
    if refusal is not None:
        raise refusal
    assert user is not None
    return user


async def _decide(
    db: AsyncSession, provider: OidcProvider, claims: Claims, link_verified_email: bool
) -> tuple[User | None, Refused | None]:
    """Find or make the account, committing what must stay (a new pending account, a link request) even when the
    person is refused for now."""
    query = select(UserIdentity).where(UserIdentity.issuer == claims.issuer, UserIdentity.subject == claims.subject)
    identity = (await db.exec(query)).first()
    if identity is None:
        return await _first_sign_in(db, provider, claims, link_verified_email)
    user = await db.get(User, identity.user_id)
    if user is None:
        return None, Refused(_("No account"), _("The account this sign-in belonged to was removed."))
    if not identity.linked:
        return None, _waiting_for_link(user.email)
    identity.last_used_at = utcnow()
    db.add(identity)
    return user, _closed(user)


async def _first_sign_in(
    db: AsyncSession, provider: OidcProvider, claims: Claims, link_verified_email: bool
) -> tuple[User | None, Refused | None]:
    if not claims.email:
        return None, Refused(
            _("No email address"),
            _("{provider} did not tell this server your email address, so no account can be made for you.").format(
                provider=provider.title
            ),
        )
    existing = (await db.exec(select(User).where(User.email == claims.email))).first()
    if existing is not None and existing.id is not None:
        # An account made without a password (the people page, `handsup user add --no-password`) waits for its
        # owner's first single sign-on: a verified email links it, once. A password account needs the setting.
        awaited = not existing.has_password and not await _has_linked(db, existing.id)
        linked = claims.email_verified and (link_verified_email or awaited)
        db.add(_identity(existing.id, provider, claims, linked=linked))
        if not linked:
            log.warning(
                "sign-in with %s as %s asks to be linked to the account %s", provider.name, claims.subject, claims.email
            )
            return None, _waiting_for_link(existing.email)
        log.warning("account %s linked to its sign-in with %s (verified email)", existing.email, provider.name)
        return existing, _closed(existing)
    role = provider.domains.get(claims.domain) if claims.email_verified else None
    if role is None and not provider.approval:
        if not claims.email_verified:
            return None, Refused(
                _("Email not verified"),
                _("{provider} has not verified your email address {email}, so this server cannot let you in.").format(
                    provider=provider.title, email=claims.email
                ),
            )
        return None, Refused(
            _("Not allowed here"),
            _("Accounts from {domain} are not allowed on this server. Ask its administrator if you need one.").format(
                domain=claims.domain
            ),
        )
    user = User(email=claims.email, password_hash="", role=Role(role or Role.presenter), pending=role is None)
    db.add(user)
    await db.flush()
    assert user.id is not None
    db.add(_identity(user.id, provider, claims, linked=True))
    log.warning(
        "account %s created by a sign-in with %s%s", user.email, provider.name, " (pending)" if user.pending else ""
    )
    return user, _closed(user)


async def _has_linked(db: AsyncSession, user_id: int) -> bool:
    query = select(UserIdentity.id).where(UserIdentity.user_id == user_id, col(UserIdentity.linked).is_(True))
    return (await db.exec(query)).first() is not None


def _identity(user_id: int, provider: OidcProvider, claims: Claims, *, linked: bool) -> UserIdentity:
    return UserIdentity(
        user_id=user_id,
        provider=provider.name,
        issuer=claims.issuer,
        subject=claims.subject,
        email=claims.email,
        linked=linked,
        last_used_at=utcnow() if linked else None,
    )


def _closed(user: User) -> Refused | None:
    """Why an account found for a sign-in may not sign in now, or None."""
    if user.disabled_at is not None:
        return Refused(_("Account disabled"), _("This account is disabled. Ask an administrator to enable it again."))
    if user.pending:
        return Refused(
            _("Waiting for approval"),
            _(
                "Your account {email} is waiting for an administrator's approval. Sign in again once they approve it."
            ).format(email=user.email),
        )
    return None


def _waiting_for_link(email: str) -> Refused:
    return Refused(
        _("Ask to link your account"),
        _(
            "An account for {email} exists already. An administrator must link it to this sign-in on the people page "
            "before you can use it."
        ).format(email=email),
        409,
    )


# --- administrators: approving accounts and linking sign-ins (the people page) -----------------------------------


async def approve(maker: async_sessionmaker[AsyncSession], actor: User, user_id: int) -> User:
    """Let a pending account in."""
    async with maker() as db, db.begin():
        user = await db.get(User, user_id)
        if user is None:
            raise NoSuchAccount(_("There is no such account."))
        user.pending = False
        db.add(user)
    log.warning("account %s approved by %s", user.email, actor.email)
    return user


async def link(maker: async_sessionmaker[AsyncSession], actor: User, identity_id: int) -> UserIdentity:
    """Link a provider's sign-in to the account it asked for: from now on it signs in as that account."""
    async with maker() as db, db.begin():
        identity = await db.get(UserIdentity, identity_id)
        if identity is None:
            raise NoSuchAccount(_("There is no such sign-in to link."))
        identity.linked = True
        db.add(identity)
    log.warning(
        "sign-in with %s as %s linked to account %s by %s",
        identity.provider,
        identity.subject,
        identity.user_id,
        actor.email,
    )
    return identity


async def unlink(maker: async_sessionmaker[AsyncSession], actor: User, identity_id: int) -> None:
    """Forget a provider's sign-in (a link request refused, or a link undone): it may ask again."""
    async with maker() as db, db.begin():
        identity = await db.get(UserIdentity, identity_id)
        if identity is None:
            return  # removed already (a second click): nothing left to do
        await db.delete(identity)
    log.warning(
        "sign-in with %s as %s removed from account %s by %s",
        identity.provider,
        identity.subject,
        identity.user_id,
        actor.email,
    )


async def identities_by_user(maker: async_sessionmaker[AsyncSession]) -> dict[int, list[UserIdentity]]:
    """Every account's sign-ins at providers, linked and asked for, for the people page."""
    async with maker() as db:
        rows = (await db.exec(select(UserIdentity).order_by(col(UserIdentity.id)))).all()
    found: dict[int, list[UserIdentity]] = {}
    for identity in rows:
        found.setdefault(identity.user_id, []).append(identity)
    return found
