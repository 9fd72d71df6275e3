"""Single sign-on as a district's facilitator does it: the sign-in button, the provider's own login and consent
pages, and back to Handsup, against a real OpenID provider (the npm `oidc-provider` package, tests/oidc/provider.mjs)
on loopback. Every refusal is a page a person can read, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.axe import Audit
from tests.browser.factories import LAPTOP, PHONE, PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli, free_port, start_server, stop_server
from tests.services import OpenIdProvider, scratch_folder

pytestmark = pytest.mark.browser
ADMIN = "admin@example.org"
DISTRICT = "district.example.org"
ACCOUNTS = {
    "ada": {"email": f"ada@{DISTRICT}", "email_verified": True, "name": "Ada"},
    "bo": {"email": "bo@elsewhere.example.net", "email_verified": True, "name": "Bo"},
    "cy": {"email": f"cy@{DISTRICT}", "email_verified": False, "name": "Cy"},
    "dee": {"email": f"dee@{DISTRICT}", "email_verified": True, "name": "Dee"},
    "eve": {"email": f"eve@{DISTRICT}", "email_verified": True, "name": "Eve"},
    "fay": {"email": f"fay@{DISTRICT}", "email_verified": True, "name": "Fay"},
    "gil": {"email": "gil@otra.example.net", "email_verified": True, "name": "Gil"},
    "late": {"email": f"late@{DISTRICT}", "email_verified": True, "name": "Late"},  # its codes expire after 1 s
}


@dataclass
class Site:
    server: LiveServer
    provider: OpenIdProvider


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A Handsup server with three providers: the district (its domain let in as presenters, everyone else
    refused), partners (anyone, once an administrator approves) and one whose issuer is down."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/login/oidc/{{}}/callback"
    clients = [
        {"client_id": name, "client_secret": f"{name}-secret-for-tests", "redirect_uris": [callback.format(name)]}
        for name in ("district", "partners")
    ]
    provider = OpenIdProvider(scratch_folder("oidc-"), clients, ACCOUNTS)
    provider.start()
    settings = [
        {
            "name": "district",
            "title": "District",
            "issuer": provider.issuer,
            "client_id": "district",
            "client_secret": "district-secret-for-tests",
            "domains": {DISTRICT: "presenter"},
        },
        {
            "name": "partners",
            "title": "Partners",
            "issuer": provider.issuer,
            "client_id": "partners",
            "client_secret": "partners-secret-for-tests",
            "approval": True,
        },
        {
            "name": "offline",
            "title": "Offline",
            "issuer": f"http://127.0.0.1:{free_port()}",
            "client_id": "offline",
            "client_secret": "offline-secret",
        },
    ]
    server = start_server(
        tmp_path_factory.mktemp("oidc"),
        port,
        HANDSUP_OIDC_PROVIDERS=json.dumps(settings),
        HANDSUP_OIDC_TIMEOUT_SECONDS="3",
    )
    password_file = server.data_dir / "admin-password"
    password_file.write_text(PASSWORD)
    cli(server, "user", "add", ADMIN, "--role", "admin", "--password-file", str(password_file))
    yield Site(server, provider)
    stop_server(server)
    provider.stop()


def at_provider(page: Page, site: Site, login: str) -> None:
    """Do what a person does at the provider: type a login and password, then allow Handsup in (consent)."""
    expect(page.locator("input[name=login]")).to_be_visible()
    assert page.url.startswith(site.provider.issuer)
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password: the test provider takes it")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def start(page: Page, site: Site, title: str) -> None:
    page.goto(f"{site.server.url}/login")
    page.get_by_role("link", name=f"Sign in with {title}").click()


def sign_in_with(page: Page, site: Site, title: str, login: str) -> None:
    start(page, site, title)
    at_provider(page, site, login)


def new_page(browser: Browser, page_errors: PageErrors, size: dict[str, object] = LAPTOP) -> Page:
    return page_errors.watch(browser.new_context(**size).new_page(), "browser")  # type: ignore[arg-type]


def admin_page(browser: Browser, page_errors: PageErrors, site: Site) -> Page:
    page = new_page(browser, page_errors)
    page.goto(f"{site.server.url}/login")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"{site.server.url}/admin/people")
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    return page


def refused(page: Page, heading: str, message: str) -> None:
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(message)
    expect(page.get_by_role("link", name="Back to the sign-in page")).to_be_visible()


def held_callback(page: Page, site: Site, title: str, login: str) -> str:
    """Sign in at the provider, but keep its answer (the callback URL) from reaching Handsup: returned instead.

    Playwright routes only the first request of a redirect chain, and the answer comes at the end of one (consent,
    then the provider's resume, then Handsup). So the consent form's post is routed, and its redirects are followed
    here, with the browser's own cookies, up to the address that would take the browser back to Handsup."""
    held: list[str] = []

    def hold(route: Route) -> None:
        if route.request.method != "POST" or "prompt=consent" not in (route.request.post_data or ""):
            route.continue_()
            return
        answer = route.fetch(max_redirects=0)
        while answer.status in (302, 303) and not held:
            target = urljoin(answer.url, answer.headers["location"])
            if target.startswith(site.server.url):
                held.append(target)
            else:
                answer = page.context.request.get(target, max_redirects=0)
        route.fulfill(status=200, content_type="text/plain", body="held by the test")

    page.route(f"{site.provider.issuer}/interaction/**", hold)
    sign_in_with(page, site, title, login)
    expect(page.get_by_text("held by the test")).to_be_visible()
    page.unroute(f"{site.provider.issuer}/interaction/**")
    assert held, "the provider would have sent the browser back to Handsup"
    return held[0]


def test_a_district_facilitator_signs_in_and_gets_the_domains_role(
    browser: Browser, site: Site, page_errors: PageErrors
) -> None:
    page = new_page(browser, page_errors, PHONE)
    page.goto(f"{site.server.url}/login")
    expect(page.get_by_role("link", name="Sign in with District")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in with Partners")).to_be_visible()
    screenshot(page, "oidc-login-phone")
    page.get_by_role("link", name="Sign in with District").click()
    at_provider(page, site, "ada")
    expect(page).to_have_url(f"{site.server.url}/present")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    people = admin_page(browser, page_errors, site)
    row = people.locator("table.people tbody tr", has_text=f"ada@{DISTRICT}")
    expect(row).to_contain_text("Signs in with District")
    expect(row.get_by_label(f"Role of ada@{DISTRICT}")).to_have_value("presenter")
    expect(row).to_contain_text("single sign-on")
    screenshot(people, "oidc-admin-people")


def test_an_email_outside_the_allowed_domains_is_refused(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    page = new_page(browser, page_errors)
    sign_in_with(page, site, "District", "bo")
    refused(page, "Not allowed here", "Accounts from elsewhere.example.net are not allowed on this server.")
    screenshot(page, "oidc-refused-domain")
    page.goto(f"{site.server.url}/present")
    expect(page.get_by_role("heading", name="Sign in to present")).to_be_visible()


def test_an_unverified_email_is_refused(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    page = new_page(browser, page_errors)
    sign_in_with(page, site, "District", "cy")
    refused(page, "Email not verified", f"District has not verified your email address cy@{DISTRICT}")


def test_someone_from_elsewhere_waits_until_an_admin_approves(
    browser: Browser, site: Site, page_errors: PageErrors
) -> None:
    page = new_page(browser, page_errors)
    sign_in_with(page, site, "Partners", "bo")
    refused(page, "Waiting for approval", "Your account bo@elsewhere.example.net is waiting for an administrator")

    people = admin_page(browser, page_errors, site)
    row = people.locator("table.people tbody tr", has_text="bo@elsewhere.example.net")
    expect(row).to_contain_text("waiting for approval")
    screenshot(people, "oidc-admin-approval")
    row.get_by_role("button", name="Approve bo@elsewhere.example.net").click()
    expect(people.get_by_role("status")).to_have_text("The account is approved: its owner can sign in now.")

    # The provider remembers bo's sign-in and consent: the button brings them straight in.
    start(page, site, "Partners")
    expect(page).to_have_url(f"{site.server.url}/present")


def test_a_disabled_account_stays_out_whatever_the_provider_says(
    browser: Browser, site: Site, page_errors: PageErrors
) -> None:
    page = new_page(browser, page_errors)
    sign_in_with(page, site, "District", "dee")
    expect(page).to_have_url(f"{site.server.url}/present")

    people = admin_page(browser, page_errors, site)
    people.get_by_role("button", name=f"Disable dee@{DISTRICT}").click()
    expect(people.get_by_role("status")).to_contain_text("The account is disabled")

    page.reload()  # signed out at once
    expect(page.get_by_role("heading", name="Sign in to present")).to_be_visible()
    start(page, site, "District")  # the provider still vouches for dee
    refused(page, "Account disabled", "This account is disabled.")


def test_a_replayed_callback_is_refused(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    page = new_page(browser, page_errors)
    answers: list[str] = []
    page.on("request", lambda request: answers.append(request.url) if "/callback?" in request.url else None)
    sign_in_with(page, site, "District", "eve")
    expect(page).to_have_url(f"{site.server.url}/present")
    assert len(answers) == 1

    page.goto(answers[0])  # the same answer again, in the browser that used it
    refused(page, "Sign-in expired", "This sign-in has expired or was finished already.")
    elsewhere = new_page(browser, page_errors)  # and in another browser, as someone who copied the address
    elsewhere.goto(answers[0])
    refused(elsewhere, "Sign-in expired", "This sign-in has expired or was finished already.")
    elsewhere.goto(f"{site.server.url}/present")
    expect(elsewhere.get_by_role("heading", name="Sign in to present")).to_be_visible()


def test_an_answer_with_a_wrong_state_is_refused(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    page = new_page(browser, page_errors)
    answer = urlsplit(held_callback(page, site, "District", "fay"))
    params = dict(parse_qsl(answer.query))
    assert params["code"] and params["state"]
    params["state"] = "forged-" + params["state"][7:]
    page.goto(answer._replace(query=urlencode(params)).geturl())
    refused(page, "Sign-in failed", "The answer from the provider does not belong to the sign-in this browser started.")
    page.goto(f"{site.server.url}/present")
    expect(page.get_by_role("heading", name="Sign in to present")).to_be_visible()


def test_an_expired_code_is_refused(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    page = new_page(browser, page_errors)
    answer = held_callback(page, site, "District", "late")
    page.wait_for_timeout(2500)  # the provider gives "late" codes that live one second
    page.goto(answer)
    refused(page, "Sign-in failed", "The provider did not accept the sign-in code: it may have expired")
    screenshot(page, "oidc-expired-code")


def test_a_provider_that_is_down_gets_a_clear_message(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    page = new_page(browser, page_errors)
    page.goto(f"{site.server.url}/login")
    with page.expect_response(lambda response: "/login/oidc/offline" in response.url) as answer:
        page.get_by_role("link", name="Sign in with Offline").click()
    assert answer.value.status == 502
    refused(page, "Provider unavailable", "Offline cannot be reached just now")
    screenshot(page, "oidc-provider-down")


def test_the_sign_in_page_speaks_spanish(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    page = page_errors.watch(browser.new_context(**LAPTOP, locale="es-ES").new_page(), "browser")
    page.goto(f"{site.server.url}/login")
    expect(page.get_by_role("heading", name="Inicia sesión para presentar")).to_be_visible()
    page.get_by_role("link", name="Iniciar sesión con District").click()
    at_provider(page, site, "gil")
    expect(page.get_by_role("heading", name="No permitido aquí")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "Las cuentas de otra.example.net no están permitidas en este servidor."
    )
    expect(page.get_by_role("link", name="Volver a la página de inicio de sesión")).to_be_visible()
    screenshot(page, "oidc-refused-spanish")


def test_the_single_sign_on_pages_pass_axe(browser: Browser, site: Site, page_errors: PageErrors) -> None:
    audit = Audit()
    page = new_page(browser, page_errors)
    page.goto(f"{site.server.url}/login")
    audit.check(page, "sign-in page with providers")
    page.goto(f"{site.server.url}/login/oidc/district/callback?state=stray")
    audit.check(page, "refusal page")
    people = admin_page(browser, page_errors, site)
    audit.check(people, "people page with sign-ins")
    spanish = page_errors.watch(browser.new_context(**LAPTOP, locale="es-ES").new_page(), "browser")
    spanish.goto(f"{site.server.url}/login")
    audit.check(spanish, "sign-in page in Spanish")
    audit.assert_clean()
