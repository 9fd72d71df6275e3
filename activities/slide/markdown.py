"""A content slide's Markdown as HTML that can neither run nor load anything.

Two locks, each enough alone: markdown-it renders CommonMark with raw HTML off (a `<script>` in a deck is text), and
nh3 (ammonia) then keeps only an allow-list of tags and attributes, links to http, https and mailto only. Markdown
images become their alt text: the only picture a slide shows is its uploaded image, never a remote one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

# What a slide's body may be made of: text structure, emphasis, links and code; nothing that loads, embeds or styles.
TAGS = frozenset(
    {"p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "a", "blockquote", "code", "pre"}
)
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
# Rendered bodies kept per process: a deck's slides in a few languages. Keyed by the text, so a slide is rendered once
# however many phones, pushes and copies of its config show it.
CACHED_BODIES = 512


def _heading_open(renderer: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    # The slide's title is the page's h1 (server templates), so the body's headings start one level below it.
    level = min(int(tokens[index].tag[1]) + 1, 6)
    return f"<h{level}>"


def _heading_close(renderer: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    level = min(int(tokens[index].tag[1]) + 1, 6)
    return f"</h{level}>\n"


def _image(renderer: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    # `![a plan](https://elsewhere/plan.png)`: no request leaves the room's pages, so the words stand in for it.
    return str(escape(tokens[index].content))


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.add_render_rule("heading_open", _heading_open)
    parser.add_render_rule("heading_close", _heading_close)
    parser.add_render_rule("image", _image)
    return parser


_PARSER = _parser()
_CLEANER = nh3.Cleaner(
    tags=set(TAGS),
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    url_schemes=set(SCHEMES),
    url_relative="deny",
    link_rel=LINK_REL,
    strip_comments=True,
)


@lru_cache(maxsize=CACHED_BODIES)
def render_markdown(text: str) -> Markup:
    """`text` (CommonMark) as sanitised HTML, safe to put in a page as it is."""
    if not text.strip():
        return Markup("")
    text = text.encode("utf-8", "replace").decode()  # half a surrogate pair (no config holds one) as a "?"
    return Markup(_CLEANER.clean(_PARSER.render(text)).strip())  # noqa: S704 - sanitised by the allow-list above
