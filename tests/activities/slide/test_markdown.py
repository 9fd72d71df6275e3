"""A slide's Markdown as HTML: the structure a facilitator writes comes through, and nothing that could run or load
does, whatever the text (activities/slide/markdown.py)."""

from __future__ import annotations

import pytest

from activities.slide.markdown import render_markdown
from tests.hostile import PAYLOADS, inert


def test_the_structure_a_facilitator_writes_comes_through() -> None:
    html = render_markdown(
        "# Why now\n\nA paragraph with **bold** and *italic*.\n\n- one\n- two\n\n3. three\n4. four\n\n> A quote\n\n"
        "[Our site](https://example.org/a?b=1&c=2) and <mailto:team@example.org>\n\n---\n\n`code`"
    )
    assert "<h2>Why now</h2>" in html  # the title is the page's h1: the body's headings start below it
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">' in html and "<li>four</li>" in html
    assert "<blockquote>\n<p>A quote</p>\n</blockquote>" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">Our site</a>' in html
    assert '<a href="mailto:team@example.org" rel="noopener noreferrer nofollow">' in html
    assert "<hr>" in html and "<code>code</code>" in html


def test_headings_go_one_level_down_and_stop_at_six() -> None:
    html = render_markdown("# one\n\n## two\n\n###### six")
    assert "<h2>one</h2>" in html and "<h3>two</h3>" in html and "<h6>six</h6>" in html
    assert "<h1" not in html and "<h7" not in html


def test_an_empty_body_renders_nothing() -> None:
    assert render_markdown("") == "" and render_markdown("  \n\n ") == ""


def test_a_markdown_image_shows_its_words_and_loads_nothing() -> None:
    html = render_markdown('Look: ![a floor plan <b>"quoted"</b>](https://elsewhere.example/plan.png "a title")')
    assert "<img" not in html and "elsewhere.example" not in html
    assert "a floor plan" in html and "<b>" not in html  # raw HTML in the words stays text


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "file:///etc/passwd",
        "/present/1/control",
        "//evil.example/x",
        "ftp://example.org/file",
        "%6A%61vascript:alert(1)",
    ],
)
def test_only_http_https_and_mailto_links_keep_their_target(link: str) -> None:
    for text in (f"[click]({link})", f"[click][ref]\n\n[ref]: {link}", f"<{link}>"):
        html = render_markdown(text)
        page = inert(html)
        assert page.links == [], (text, html)


def test_raw_html_and_entities_stay_text() -> None:
    text = (
        '<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n<p style="color:red">styled</p>\n\n'
        "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;\n\n"
        '<!-- a comment --> <iframe src=https://example.org></iframe> <a href="https://example.org">raw</a>'
    )
    html = render_markdown(text)
    page = inert(html)
    for tag in ("<script", "<img", "<iframe", "<p style", "<a href", "<!--"):
        assert tag not in html, tag
    assert "<script>alert(1)</script>" in page.text and "<img src=x onerror=alert(1)>" in page.text


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_hostile_payload_renders_inert(name: str) -> None:
    text = PAYLOADS[name]
    for body in (text, f"# {text}\n\n- {text}\n\n> {text}\n\n[{text}]({text})\n\n**{text}**"):
        html = render_markdown(body)
        page = inert(html)
        assert "<img" not in html and "<script" not in html
        assert all(link.startswith(("https://", "http://", "mailto:")) for link in page.links), page.links


def test_the_rendering_is_kept_per_text() -> None:
    text = "Rendered once, *however often* it is shown."
    assert render_markdown(text) is render_markdown(text)
