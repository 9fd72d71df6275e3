"""Rendering through Views: the same HTML as Jinja's own path, without copying the globals' ChainMap per render."""

from __future__ import annotations

import os
import time
from collections import ChainMap
from pathlib import Path

from jinja2 import FileSystemLoader

from activities import load_registry
from server.live.fragments import Views, make_environment


def test_a_template_renders_with_its_globals_as_one_plain_dict_and_the_same_html() -> None:
    registry = load_registry()
    views = Views(make_environment(registry), registry)
    plain = make_environment(registry)  # Jinja's own path, for comparison
    for name in ("presenter/counts.html", "participant/reply.html", "home.html"):
        assert views.template(name) is views.template(name)  # the environment's cached template
        assert type(views.template(name).globals) is dict
        assert views.template(name).globals == dict(ChainMap(views.env.globals))
    context = {"error": "No session has that code.", "code": "123456", "csrf": "token"}
    assert views.render("home.html", **context) == plain.get_template("home.html").render(**context)


def test_a_template_changed_on_disk_is_reloaded_and_flattened_again(tmp_path: Path) -> None:
    registry = load_registry()
    env = make_environment(registry)
    env.loader = FileSystemLoader(tmp_path)
    views = Views(env, registry)
    page = tmp_path / "page.html"
    page.write_text("one {{ format_code('123456') }}")
    first = views.render("page.html")
    page.write_text("two {{ format_code('123456') }}")
    later = time.time() + 5
    os.utime(page, (later, later))  # a later modification time than the one Jinja loaded
    second = views.render("page.html")
    assert first.startswith("one ") and second.startswith("two ")
    assert first[4:] == second[4:]
    assert type(views.template("page.html").globals) is dict
