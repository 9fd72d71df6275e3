"""Kinds' bundles: a page showing several kinds loads their stylesheets as one response and their scripts as one."""

from __future__ import annotations

import gzip
import re

import pytest
from starlette.testclient import TestClient

from activities import registry
from server.live.fragments import kind_static_urls

YEAR = "public, max-age=31536000, immutable"


def bundle_of(kinds: list[str], suffix: str) -> str:
    [url] = kind_static_urls(registry, kinds, suffix)
    return url


def test_several_kinds_files_are_linked_as_one_bundle_naming_its_kinds_and_digest() -> None:
    styles = bundle_of(["wordcloud", "qa", "poll", "no-such-kind", "qa"], ".css")
    assert re.fullmatch(r"/static/kinds/bundle\.css\?kinds=qa,wordcloud&v=[0-9a-f]{12}", styles), styles
    scripts = bundle_of(["wordcloud", "points", "slide"], ".js")  # the slide ships no script: it is left out
    assert re.fullmatch(r"/static/kinds/bundle\.js\?kinds=points,wordcloud&v=[0-9a-f]{12}", scripts), scripts


def test_a_bundle_is_each_kinds_files_in_name_order_headed_by_their_names_and_kept_a_year(client: TestClient) -> None:
    url = bundle_of(registry.names(), ".js")
    served = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "text/javascript; charset=utf-8"
    assert served.headers["cache-control"] == YEAR
    assert served.headers["content-encoding"] == "gzip"  # TestClient has already inflated .text
    headings = re.findall(r"^/\* kind (\S+): (\S+) \*/$", served.text, flags=re.MULTILINE)
    shipping = [kind for kind in registry.all() if sorted(kind.static_dir.glob("*.js"))]
    assert headings == [(kind.name, path.name) for kind in shipping for path in sorted(kind.static_dir.glob("*.js"))]
    for kind in shipping:
        for path in sorted(kind.static_dir.glob("*.js")):
            assert path.read_text(encoding="utf-8").strip() in served.text
    assert "refreshClouds" in served.text and "applyOwnMarks" in served.text


def test_a_bundle_is_smaller_compressed_than_its_files_one_by_one() -> None:
    """What bundling is for: fewer responses, and one compression window across the kinds' similar rules."""
    kinds = [kind for kind in registry.all() if sorted(kind.static_dir.glob("*.css"))]
    alone = sum(len(gzip.compress(path.read_bytes())) for k in kinds for path in sorted(k.static_dir.glob("*.css")))
    joined = b"".join(path.read_bytes() for k in kinds for path in sorted(k.static_dir.glob("*.css")))
    assert len(gzip.compress(joined)) < alone


def test_each_kinds_script_keeps_its_names_to_itself_so_scripts_join_safely() -> None:
    """Every kind's script is one function expression called at once and ended by a semicolon: joined with the
    others, none sees or overwrites another's names, and none runs into the next one's opening parenthesis."""
    scripts = [path for kind in registry.all() for path in sorted(kind.static_dir.glob("*.js"))]
    assert scripts, "the built-in kinds ship scripts"
    for path in scripts:
        code = re.sub(r"^\s*//.*$", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE).strip()
        assert code.startswith("(function () {") and code.endswith("})();"), path.name


def test_a_bundle_whose_digest_is_not_this_servers_is_served_but_checked_each_time(client: TestClient) -> None:
    """During a rolling deploy a page rendered by a worker of another release names a digest this one does not
    have: it gets this worker's files, not an error, and no browser keeps them beyond the visit."""
    url = bundle_of(["qa", "wordcloud"], ".css")
    stale = client.get(re.sub(r"v=\w+", "v=000000000000", url))
    assert stale.status_code == 200 and ".cloud" in stale.text
    assert stale.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": stale.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("bundle.css?kinds=qa,nothing&v=1", "There is no activity kind named 'nothing'."),
        ("bundle.css?kinds=wordcloud,qa&v=1", "Name the kinds once each, in name order, separated by commas."),
        ("bundle.css?kinds=qa,qa&v=1", "Name the kinds once each, in name order, separated by commas."),
        ("bundle.css?kinds=&v=1", "Name the kinds once each, in name order, separated by commas."),
        ("bundle.css?v=1", "Name the kinds once each, in name order, separated by commas."),
        ("bundle.js?kinds=poll,qa&v=1", "The kind 'poll' has no .js file."),
        ("bundle.html?kinds=qa,wordcloud&v=1", "Only .css and .js files are bundled."),
    ],
)
def test_a_bundle_of_unknown_or_misspelt_kinds_is_not_found_and_says_why(
    client: TestClient, path: str, reason: str
) -> None:
    answer = client.get(f"/static/kinds/{path}")
    assert answer.status_code == 404
    assert answer.json()["detail"] == reason
    assert "cache-control" not in answer.headers or "immutable" not in answer.headers["cache-control"]
