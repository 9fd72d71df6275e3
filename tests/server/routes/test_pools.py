"""Institute-wide pools, through the one a kind offers today: the resources kind's library, every cohort's call for
resources merged, counted per cohort, filtered and exported (activities/resources/pool.py, served generically)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, update
from starlette.testclient import TestClient

from activities.resources import identity_key
from server.models import Activity, Role
from tests.factories import Presenter, api_token, join, login, make_user, respond, run, services_of
from tests.server.test_compare import SCRIPT, Setup, delete_answers, make_institute, table

OPEN_CALL = """\
title: Call for resources
pace: audience
activities:
  - kind: resources
    title: Call for resources
    moderated: false
"""
MODERATED_CALL = OPEN_CALL.replace("moderated: false", "moderated: true")
CHANGE = "https://example.org/change"
CHANGE_KEY = identity_key(CHANGE, "")
PADLET = "https://padlet.com/"


@pytest.fixture
def setup(client: TestClient) -> Setup:
    user = make_user(client, "organizer@example.org", Role.organizer)
    organizer = Presenter(client, user, api_token(client, user.email))
    institute, cohorts = make_institute(client, user, "Phoenix", "Oakland", "Flagstaff")
    return Setup(client, organizer, institute, cohorts)


def suggest(kind: str, title: str, link: str = "", note: str = "", upvote: tuple[str, ...] = ()) -> dict[int, Any]:
    return {0: {"type": kind, "title": title, "link": link, "note": note, "upvote": list(upvote)}}


@pytest.fixture
def shared(setup: Setup) -> dict[str, dict[str, Any]]:
    """Phoenix and Oakland each ran an open call; some of their resources are the same ones."""
    phoenix, oakland = setup.start(setup.cohorts[0], OPEN_CALL), setup.start(setup.cohorts[1], OPEN_CALL)
    setup.answer(
        phoenix,
        suggest("video", "Leading change", "HTTPS://Example.org:443/change#part-2", note="Ten minutes"),
        suggest("reading", "Dare to Lead", upvote=(CHANGE_KEY,)),
    )
    setup.answer(
        oakland,
        suggest("video", "Leading Change!", CHANGE),  # another title, the same link: the same resource
        suggest("reading", "dare to lead"),  # no link, a title Phoenix shared: the same resource
        suggest("video", "leading change"),  # no link, the title of Phoenix's linked one: joins it
        suggest("tool", "Padlet", "https://padlet.com", upvote=(CHANGE_KEY,)),
    )
    return {"phoenix": phoenix, "oakland": oakland}


def library(setup: Setup, **params: str) -> Any:
    """The resource library as the API gives it: the resources kind's pool."""
    found = setup.api("/pools/resources", **params)
    assert (found["institute_id"], found["kind"], found["label"]) == (
        setup.institute.id,
        "resources",
        "Resource library",
    )
    return found["pool"]


def counts(resource: dict[str, Any], setup: Setup) -> dict[str, tuple[int, int]]:
    """A resource's (suggested, upvoted) by cohort name."""
    names = {cohort.id: cohort.name for cohort in setup.cohorts}
    return {names[count["cohort_id"]]: (count["suggested"], count["upvoted"]) for count in resource["cohorts"]}


def test_resources_of_every_cohort_merge_by_link_or_title_with_counts_per_cohort(
    setup: Setup, shared: dict[str, dict[str, Any]]
) -> None:
    found = library(setup)
    assert [cohort["name"] for cohort in found["cohorts"]] == ["Oakland", "Phoenix"]  # Flagstaff ran no call
    assert found["types"] == ["reading", "tool", "video"] and found["type"] is None
    resources = found["resources"]
    assert [(r["title"], r["type"], r["link"], r["suggested"], r["upvoted"], r["total"]) for r in resources] == [
        ("Leading change", "video", CHANGE, 3, 2, 5),
        ("Dare to Lead", "reading", None, 2, 0, 2),
        ("Padlet", "tool", PADLET, 1, 0, 1),
    ]
    change, dare, padlet = resources
    assert counts(change, setup) == {"Phoenix": (1, 1), "Oakland": (2, 1)}
    assert counts(dare, setup) == {"Phoenix": (1, 0), "Oakland": (1, 0)}
    assert counts(padlet, setup) == {"Oakland": (1, 0)}
    assert change["note"] == "Ten minutes" and change["key"] == CHANGE_KEY


def test_only_what_the_room_could_see_joins_the_library(setup: Setup) -> None:
    moderated = setup.start(setup.cohorts[0], MODERATED_CALL)
    setup.answer(
        moderated,
        suggest("video", "Approved one", "https://example.org/approved"),
        suggest("video", "Approved then hidden", "https://example.org/hidden"),
        suggest("video", "Never approved", "https://example.org/pending"),
    )
    activity = moderated["activities"][0]["id"]
    for verb, link in (("approve", "approved"), ("approve", "hidden"), ("hide", "hidden")):
        key = identity_key(f"https://example.org/{link}", "")
        setup.organizer.control(moderated["id"], "moderate", activity, verb=verb, answer=key)
    unmoderated = setup.start(setup.cohorts[1], OPEN_CALL)
    setup.answer(unmoderated, suggest("tool", "Shown at once", "https://example.org/open"))
    titles = [resource["title"] for resource in library(setup)["resources"]]
    assert sorted(titles) == ["Approved one", "Shown at once"]


def test_a_type_filters_the_library_and_its_downloads(setup: Setup, shared: dict[str, dict[str, Any]]) -> None:
    videos = library(setup, type=" VIDEO ")
    assert videos["type"] == "video" and videos["types"] == ["reading", "tool", "video"]
    assert [resource["title"] for resource in videos["resources"]] == ["Leading change"]
    assert library(setup, type="podcast")["resources"] == []
    assert [row["title"] for row in table(setup.api("/pools/resources/export.csv", type="tool").text)] == ["Padlet"]
    login(setup.client, "organizer@example.org")
    base = f"/organize/institutes/{setup.institute.id}/pools/resources"
    page = setup.client.get(base, params={"type": "video"}).text
    assert '<option value="video" selected>video</option>' in page
    assert f'href="{base}/export.csv?type=video"' in page and f'href="{base}/export.md?type=video"' in page
    assert "Padlet" not in page
    assert "No resources of the type “podcast”." in setup.client.get(base, params={"type": "podcast"}).text


def test_the_csv_has_counts_per_cohort_and_harmless_formula_cells(
    setup: Setup, shared: dict[str, dict[str, Any]]
) -> None:
    setup.answer(shared["phoenix"], suggest("other", '=HYPERLINK("https://evil.example","x")', note="+1 from everyone"))
    download = setup.api("/pools/resources/export.csv")
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == 'attachment; filename="2017-spring-institute-resources.csv"'
    assert download.text.splitlines()[0] == (
        "type,title,link,note,suggested,upvoted,total,suggested_oakland,upvoted_oakland,suggested_phoenix,upvoted_phoenix"
    )
    rows = {row["title"]: row for row in table(download.text)}
    change = rows["Leading change"]
    assert (change["link"], change["suggested"], change["upvoted"], change["total"]) == (CHANGE, "3", "2", "5")
    assert (change["suggested_phoenix"], change["upvoted_phoenix"]) == ("1", "1")
    assert (change["suggested_oakland"], change["upvoted_oakland"]) == ("2", "1")
    assert (rows["Padlet"]["suggested_phoenix"], rows["Padlet"]["upvoted_phoenix"]) == ("0", "0")
    forged = rows["'" + '=HYPERLINK("https://evil.example","x")']  # a spreadsheet shows it, never runs it
    assert forged["note"] == "'+1 from everyone"


def test_the_markdown_list_is_escaped_and_links_only_to_the_web(setup: Setup) -> None:
    session = setup.start(setup.cohorts[0], OPEN_CALL)
    setup.answer(
        session,
        suggest("reading", "[click](javascript:alert(1))", "https://example.org/a_b"),
        suggest("video", SCRIPT),
    )
    refused = respond(
        setup.client,
        join(setup.client, session["code"]),
        session["activities"][0]["id"],
        type="tool",
        title="Sneaky",
        link="javascript:alert(1)",
    )
    assert refused.status_code == 422 and "https://" in refused.json()["detail"]
    download = setup.api("/pools/resources/export.md")
    assert download.headers["content-type"] == "text/markdown; charset=utf-8"
    text = download.text
    assert text.startswith("# 2017 Spring Institute: resource library\n")
    assert (
        r"- [\[click\]\(javascript:alert\(1\)\)](<https://example.org/a_b>) (reading, suggested by 1, 0 upvotes)"
        in text
    )
    assert r"\<script\>alert\(1\)\</script\>" in text
    assert "Sneaky" not in text
    assert setup.client.get(
        f"/api/v1/institutes/{setup.institute.id}/pools/resources/export.pdf", headers=setup.organizer.headers
    ).json()["detail"] == ("Resource library exports as csv, md, html.")


def test_kept_results_stay_in_the_library_and_a_forged_link_is_no_link(
    setup: Setup, shared: dict[str, dict[str, Any]]
) -> None:
    before = library(setup)
    oakland = shared["oakland"]
    delete_answers(setup.client, oakland["id"])
    assert library(setup) == before
    # Kept results edited outside the server (a tampered import): a script link is shown as no link at all.
    activity = oakland["activities"][0]["id"]
    services = services_of(setup.client)

    async def tamper() -> None:
        async with services.db() as db, db.begin():
            found = await db.get(Activity, activity)
            assert found is not None and found.aggregate is not None
            snapshot = dict(found.aggregate["snapshot"])
            snapshot["resources"] = [{**item, "link": "javascript:alert(1)"} for item in snapshot["resources"]]
            aggregate = {**found.aggregate, "snapshot": snapshot}
            await db.exec(update(Activity).where(col(Activity.id) == activity).values(aggregate=aggregate))

    run(setup.client, tamper)
    padlet = next(r for r in library(setup)["resources"] if r["title"] == "Padlet")
    assert padlet["link"] is None
    login(setup.client, "organizer@example.org")
    page = setup.client.get(f"/organize/institutes/{setup.institute.id}/pools/resources").text
    assert "javascript:" not in page


def test_the_library_page_shows_each_cohorts_counts_and_safe_links(
    setup: Setup, shared: dict[str, dict[str, Any]]
) -> None:
    setup.answer(shared["phoenix"], suggest("other", SCRIPT))
    login(setup.client, "organizer@example.org")
    page = setup.client.get(f"/organize/institutes/{setup.institute.id}/pools/resources")
    assert page.status_code == 200
    html = page.text
    assert "<th>Oakland</th>" in html and "<th>Phoenix</th>" in html and "<th>Flagstaff</th>" not in html
    assert f'<a href="{CHANGE}" rel="noopener noreferrer nofollow" target="_blank">Leading change</a>' in html
    assert "2 suggested · 1 upvoted" in html and "1 suggested · 1 upvoted" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and SCRIPT not in html
    markdown = setup.client.get(f"/organize/institutes/{setup.institute.id}/pools/resources/export.md")
    assert markdown.status_code == 200
    assert markdown.headers["content-disposition"] == 'attachment; filename="2017-spring-institute-resources.md"'


def test_an_institute_without_a_call_for_resources_has_an_empty_library(setup: Setup) -> None:
    assert library(setup) == {"types": [], "type": None, "cohorts": [], "resources": []}
    assert table(setup.api("/pools/resources/export.csv").text) == []
    login(setup.client, "organizer@example.org")
    assert "No resources yet" in setup.client.get(f"/organize/institutes/{setup.institute.id}/pools/resources").text


@pytest.mark.parametrize("kind", ["poll", "no-such-kind"])
def test_only_a_kind_that_offers_a_pool_has_one(setup: Setup, kind: str) -> None:
    for path in (
        f"/api/v1/institutes/{setup.institute.id}/pools/{kind}",
        f"/api/v1/institutes/{setup.institute.id}/pools/{kind}/export.csv",
    ):
        refused = setup.client.get(path, headers=setup.organizer.headers)
        assert refused.status_code == 404
        assert refused.json()["detail"] == "No such pool: pools are offered by resources."
    login(setup.client, "organizer@example.org")
    assert setup.client.get(f"/organize/institutes/{setup.institute.id}/pools/{kind}").status_code == 404


def test_the_institute_page_links_to_every_kinds_pool(setup: Setup) -> None:
    login(setup.client, "organizer@example.org")
    page = setup.client.get(f"/organize/institutes/{setup.institute.id}").text
    assert f'href="/organize/institutes/{setup.institute.id}/pools/resources">Resource library</a>' in page
