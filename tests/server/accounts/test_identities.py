"""Who a single sign-on lets in (server/accounts/identities.py), and the sign-in page with providers and with
password sign-in switched off (server/routes/login.py)."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.accounts.identities import Claims, Refused, admit, approve, link
from server.accounts.people import add_user, set_disabled
from server.accounts.security import setup_token
from server.config import OidcProvider
from server.models import Role, User, UserIdentity
from tests.factories import PASSWORD, api_token, limits, make_user, run, services_of, stored

ISSUER = "https://id.district.example.org"
DISTRICT = OidcProvider(
    name="district",
    title="District",
    issuer=ISSUER,
    client_id="handsup",
    client_secret="s3cret",
    domains={"District.Example.org": "organizer"},
)
PARTNERS = DISTRICT.model_copy(update={"name": "partners", "title": "Partners", "domains": {}, "approval": True})
PROVIDERS = json.loads(json.dumps([DISTRICT.model_dump(), PARTNERS.model_dump()]))


def claims(subject: str, email: str, verified: bool = True, issuer: str = ISSUER) -> Claims:
    return Claims.of({"iss": issuer, "sub": subject, "email": email, "email_verified": verified})


def sign_in(client: TestClient, who: Claims, provider: OidcProvider = DISTRICT, *, link_verified: bool = False) -> User:
    return run(client, lambda: admit(services_of(client).db, provider, who, link_verified_email=link_verified))


def refusal(client: TestClient, who: Claims, provider: OidcProvider = DISTRICT, **options: bool) -> Refused:
    with pytest.raises(Refused) as refused:
        sign_in(client, who, provider, **options)
    return refused.value


def test_a_verified_email_of_an_allowed_domain_gets_an_account_with_the_domains_role(client: TestClient) -> None:
    user = sign_in(client, claims("s-1", "Ada@District.Example.org"))
    assert (user.email, user.role, user.pending, user.has_password) == (
        "ada@district.example.org",
        "organizer",
        False,
        False,
    )
    [identity] = stored(client, select(UserIdentity))
    assert (identity.issuer, identity.subject, identity.linked) == (ISSUER, "s-1", True)


def test_the_account_is_found_by_issuer_and_subject_not_by_email(client: TestClient) -> None:
    first = sign_in(client, claims("s-1", "ada@district.example.org"))
    again = sign_in(client, claims("s-1", "ada.lovelace@district.example.org"))  # the provider renamed her
    assert again.id == first.id
    # Another issuer's person with the same email is not her: her account exists, so that sign-in must be linked.
    other = refusal(client, claims("s-1", "ada@district.example.org", issuer="https://id.elsewhere.example.org"))
    assert other.title == "Ask to link your account"


def test_other_domains_and_unverified_emails_are_refused_without_approval(client: TestClient) -> None:
    assert refusal(client, claims("s-2", "bo@elsewhere.example.net")).title == "Not allowed here"
    assert refusal(client, claims("s-3", "cy@district.example.org", verified=False)).title == "Email not verified"
    no_email = Claims.of({"iss": ISSUER, "sub": "s-4", "email": "<b>@example.org"})
    assert refusal(client, no_email).title == "No email address"
    assert stored(client, select(User)) == [] and stored(client, select(UserIdentity)) == []


def test_with_approval_the_account_waits_until_an_admin_approves_it(client: TestClient) -> None:
    admin = make_user(client, "admin@example.org", Role.admin)
    waiting = refusal(client, claims("s-2", "bo@elsewhere.example.net"), PARTNERS)
    assert waiting.title == "Waiting for approval"
    [pending] = stored(client, select(User).where(User.email == "bo@elsewhere.example.net"))
    assert pending.pending and pending.role == Role.presenter
    assert refusal(client, claims("s-2", "bo@elsewhere.example.net"), PARTNERS).title == "Waiting for approval"
    assert pending.id is not None
    run(client, lambda: approve(services_of(client).db, admin, pending.id or 0))
    assert sign_in(client, claims("s-2", "bo@elsewhere.example.net"), PARTNERS).id == pending.id


def test_a_password_account_is_linked_only_by_an_admin(client: TestClient) -> None:
    admin = make_user(client, "admin@example.org", Role.admin)
    owner = make_user(client, "eve@district.example.org")
    asked = refusal(client, claims("s-5", "eve@district.example.org"))
    assert asked.title == "Ask to link your account" and asked.status == 409
    [request] = stored(client, select(UserIdentity))
    assert (request.user_id, request.linked) == (owner.id, False)
    assert refusal(client, claims("s-5", "eve@district.example.org")).title == "Ask to link your account"
    run(client, lambda: link(services_of(client).db, admin, request.id or 0))
    assert sign_in(client, claims("s-5", "eve@district.example.org")).id == owner.id


def test_a_verified_email_links_a_password_account_only_where_the_setting_allows(client: TestClient) -> None:
    owner = make_user(client, "eve@district.example.org")
    unverified = claims("s-5", "eve@district.example.org", verified=False)
    assert refusal(client, unverified, link_verified=True).title == "Ask to link your account"
    assert sign_in(client, claims("s-6", "eve@district.example.org"), link_verified=True).id == owner.id


def test_an_account_made_without_a_password_is_claimed_by_its_first_verified_sign_in(client: TestClient) -> None:
    run(client, lambda: _passwordless(client, "fay@district.example.org"))
    user = sign_in(client, claims("s-7", "fay@district.example.org"))
    assert user.email == "fay@district.example.org" and user.role == Role.presenter  # its own role, not the domain's
    # Claimed once: another subject with the same email is not let in by it.
    assert refusal(client, claims("s-8", "fay@district.example.org")).title == "Ask to link your account"


async def _passwordless(client: TestClient, email: str) -> None:
    await add_user(services_of(client).db, email, None, Role.presenter)


def test_a_disabled_account_stays_out_whatever_the_provider_says(client: TestClient) -> None:
    admin = make_user(client, "admin@example.org", Role.admin)
    user = sign_in(client, claims("s-1", "ada@district.example.org"))
    run(client, lambda: set_disabled(services_of(client).db, admin, user.id or 0, True))
    assert refusal(client, claims("s-1", "ada@district.example.org")).title == "Account disabled"


# --- the pages ---------------------------------------------------------------------------------------------------


@limits(oidc_providers=PROVIDERS)
def test_the_sign_in_page_has_a_button_per_provider_and_the_password_form(client: TestClient) -> None:
    page = client.get("/login?next=/present/decks").text
    assert 'href="/login/oidc/district?next=/present/decks"' in page and "Sign in with District" in page
    assert 'href="/login/oidc/partners?next=/present/decks"' in page
    assert 'name="password"' in page


@limits(oidc_providers=PROVIDERS, password_sign_in=False)
def test_with_password_sign_in_off_only_the_providers_show_and_a_password_post_is_refused(client: TestClient) -> None:
    make_user(client, "ana@example.org")
    page = client.get("/login").text
    assert "Sign in with District" in page and 'name="password"' not in page
    refused = client.post(
        "/login", data={"email": "ana@example.org", "password": PASSWORD}, headers={"Accept": "text/html"}
    )
    assert refused.status_code == 403
    assert "Signing in with a password is switched off on this server" in refused.text
    assert "handsup_session" not in refused.cookies


@limits(oidc_providers=PROVIDERS)
def test_an_unknown_provider_and_a_callback_without_a_sign_in_are_clear_pages(client: TestClient) -> None:
    missing = client.get("/login/oidc/nobody", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "This server has no sign-in called nobody." in missing.text
    stray = client.get("/login/oidc/district/callback?code=abc&state=xyz")
    assert stray.status_code == 400
    assert "This sign-in has expired or was finished already." in stray.text


@limits(oidc_providers=PROVIDERS)
def test_the_sign_in_pages_speak_spanish(client: TestClient) -> None:
    spanish = {"Accept-Language": "es"}
    page = client.get("/login", headers=spanish).text
    assert "Iniciar sesión con District" in page and "Inicia sesión para presentar" in page
    stray = client.get("/login/oidc/district/callback?state=xyz", headers=spanish).text
    assert "Este inicio de sesión ha caducado o ya se completó." in stray


def test_the_setup_link_refuses_markup_for_an_email(client: TestClient) -> None:
    link_path = f"/setup/{setup_token(services_of(client).settings.resolved_secret_key)}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(link_path).text)
    assert token
    answer = client.post(
        link_path,
        data={"csrf_token": token.group(1), "email": "<script>alert(1)</script>@example.org", "password": PASSWORD},
    )
    assert answer.status_code == 422
    assert "is not an email address: it holds ( ) &lt; &gt;, which no address may." in answer.text
    assert stored(client, select(User)) == []


def test_a_provider_whose_emails_are_its_directorys_own_counts_them_verified(client: TestClient) -> None:
    token = {"iss": ISSUER, "sub": "s-9", "email": "gus@district.example.org"}  # no email_verified, as Entra sends
    assert refusal(client, Claims.of(token)).title == "Email not verified"
    user = sign_in(client, Claims.of(token, emails_verified=True))
    assert user.email == "gus@district.example.org" and user.role == Role.organizer


def test_an_account_waiting_for_approval_cannot_use_an_api_token(client: TestClient) -> None:
    with pytest.raises(Refused):
        sign_in(client, claims("s-2", "bo@elsewhere.example.net"), PARTNERS)
    token = api_token(client, "bo@elsewhere.example.net")  # an operator made one on the command line
    refused = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "The account of this API token is waiting for an administrator's approval; ask an administrator."
    )
