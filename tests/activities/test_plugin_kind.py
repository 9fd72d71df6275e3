"""A third-party kind outside activities/ (tests/plugins/handsup_stars), installed as pip would install it: a
`.dist-info` folder whose entry_points.txt names it in the `handsup.activities` group. The registry loads it through
that entry point alone; it proves its fold as the built-ins do; and a real `handsup serve` runs it: a phone answers
over a real socket, the presenter's pushed fragment shows the tally, and its stylesheet is served."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from activities import load_registry, registry
from activities.base import ActivityKind
from activities.testing import Database, check_folding_matches_recompute
from tests.factories import PASSWORD, LiveServer, cli, csrf_from, eventually, start_server, stop_server
from tests.server.live.test_live_uvicorn import until, ws_url

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
ADMIN = "admin@example.org"
DECK = """\
title: Rate the day
activities:
  - kind: stars
    title: How useful was today?
    most: 5
"""


def install(folder: Path) -> Path:
    """The stars plug-in installed into `folder` as an installer leaves a distribution: its metadata and entry
    points in a .dist-info folder (the code itself stays in tests/plugins, put on the path beside it)."""
    info = folder / "handsup_stars-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: handsup-stars\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[handsup.activities]\nstars = handsup_stars:kind\n")
    return folder


@pytest.fixture(scope="module")
def stars(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActivityKind[Any, Any]]:
    """The stars kind as a fresh registry loads it once the plug-in is installed (and the path restored after)."""
    site = install(tmp_path_factory.mktemp("site"))
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(PLUGINS))
        patch.syspath_prepend(str(site))
        loaded = load_registry()
        assert "stars" in loaded
        yield loaded["stars"]


def test_the_registry_loads_a_kind_from_outside_activities_through_its_entry_point(
    stars: ActivityKind[Any, Any],
) -> None:
    assert type(stars).__module__ == "handsup_stars"
    assert stars.templates_dir == PLUGINS / "handsup_stars" / "templates"
    assert (stars.static_dir / "stars.css").is_file()
    assert "stars" not in registry  # this process's own registry was loaded before the plug-in was installed


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_the_plugin_proves_its_fold_the_way_the_built_ins_do(
    database: Database, stars: ActivityKind[Any, Any], data: st.DataObject
) -> None:
    config = stars.parse_config({"most": 5})
    forms = st.builds(lambda n: {"stars": [str(n)]}, st.integers(1, 5))
    check_folding_matches_recompute(database, stars, config, forms, data)


@pytest.fixture
def plugin_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server whose Python path holds the installed plug-in and nothing else of the tests."""
    site = install(tmp_path / "site")
    server = start_server(tmp_path / "data", PYTHONPATH=os.pathsep.join([str(site), str(PLUGINS)]))
    yield server
    stop_server(server)


def presenter_of(server: LiveServer, http: httpx.Client) -> dict[str, str]:
    """The first admin, signed in on `http` (the presenter's browser cookie), and their API token's headers."""
    path = "/setup/" + server.setup_link().rsplit("/setup/", 1)[1]
    page = http.get(path)
    created = http.post(path, data={"csrf_token": csrf_from(page.text), "email": ADMIN, "password": PASSWORD})
    assert created.status_code == 303, created.text
    return {"Authorization": f"Bearer {cli(server, 'token', 'create', ADMIN, '--name', 'plugin test')}"}


def test_a_plugin_kind_runs_over_real_sockets_with_its_own_static_file(plugin_server: LiveServer) -> None:
    with httpx.Client(base_url=plugin_server.url, timeout=10) as http:
        headers = presenter_of(plugin_server, http)
        started = http.post("/api/v1/sessions", json={"deck_yaml": DECK}, headers=headers)
        assert started.status_code == 201, started.text
        session: dict[str, Any] = started.json()
        rating = int(session["activities"][0]["id"])
        control = {"action": "goto", "activity_id": rating}
        assert http.post(f"/api/v1/sessions/{session['id']}/control", json=control, headers=headers).is_success
        token = http.post("/api/v1/join", json={"code": session["code"]}).json()["participant_token"]

        def showing() -> None:
            live = http.get(
                "/api/v1/live", params={"session_id": session["id"]}, headers={"X-Participant-Token": token}
            )
            assert live.json()["activity"]["id"] == rating

        eventually(showing)
        presenter_cookie = http.cookies["handsup_session"]

        async def phone_answers_while_the_presenter_watches() -> tuple[str, str]:
            presenter_url = ws_url(plugin_server, f"/ws/presenter/{session['id']}")
            async with connect(presenter_url, additional_headers={"Cookie": f"handsup_session={presenter_cookie}"}) as (
                presenter
            ):
                await until(presenter, r'^\s*<div id="presenter-live"')
                phone_url = ws_url(plugin_server, f"/ws/participant/{session['code']}")
                async with connect(phone_url, additional_headers={"Cookie": f"handsup_participant={token}"}) as phone:
                    stage = await until(phone, r'^\s*<section id="stage"')
                    assert 'name="stars" value="4"' in stage
                    await phone.send(f'{{"activity": "{rating}", "stars": "4", "HEADERS": {{}}}}')
                    reply = await until(phone, rf'id="status-{rating}"')
                pushed = await until(presenter, rf'^\s*<div id="results-{rating}"[\s\S]*1 rated')
                return reply, pushed

        reply, pushed = asyncio.run(phone_answers_while_the_presenter_watches())
        assert "Received" in reply
        assert "4.0 stars on average" in pushed and "★★★★: <strong>1</strong>" in pushed

        http.cookies.set("handsup_participant", token)
        page = http.get(f"/{session['code']}")
        assert page.status_code == 200
        [style] = [line.split('href="')[1].split('"')[0] for line in page.text.splitlines() if "/kinds/stars/" in line]
        assert style.startswith("/static/kinds/stars/stars.css?v=")
        served = http.get(style)
        assert served.status_code == 200 and ".stars-counts" in served.text
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"

        # The plug-in documents itself in the API's description, as the built-ins do: its answer among the answers,
        # its tally among the tallies; and the tally served is of the shape described.
        document = http.get("/openapi.json").json()
        answers = document["components"]["schemas"]["ResponseCreate"]["properties"]["answer"]["anyOf"]
        assert {"$ref": "#/components/schemas/StarsAnswer"} in answers
        assert document["components"]["schemas"]["StarsAnswer"]["examples"] == [{"stars": "4"}]
        tally_path = "/api/v1/sessions/{session_id}/activities/{activity_id}/tally"
        tally_schema = document["paths"][tally_path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert tally_schema["discriminator"]["mapping"]["stars"] == "#/components/schemas/StarsTally"
        tally = http.get(f"/api/v1/sessions/{session['id']}/activities/{rating}/tally", headers=headers).json()
        assert tally["results"] == {"counts": [0, 0, 0, 1, 0], "respondents": 1, "mean": 4.0}
        valid = jsonschema_rs.validator_for({**tally_schema, "components": document["components"]})
        assert valid.is_valid(tally)
        assert not valid.is_valid({**tally, "results": {**tally["results"], "counts": "four"}})
