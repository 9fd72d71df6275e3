"""A slide in the reader's language: a deck gives its body by language, as titles are, and each phone and the
projector read the one they asked for (or the deck's own), with "Look at the screen." in theirs."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.factories import Presenter, caught_up, join

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SPANISH = {**BROWSER, "Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
GERMAN = {**BROWSER, "Accept-Language": "de-DE,de;q=0.9"}
DECK = """\
title: Slides
activities:
  - kind: slide
    title: {en: Leadership, es: Liderazgo}
    body:
      en: "# A practice\\n\\nNot a *position*."
      es: "# Una práctica\\n\\nNo un *cargo*."
  - kind: slide
    title: The plan
    layout: image-full
    image: {media: %s.png, alt: A floor plan of a school}
""" % ("c" * 64)


def test_phones_and_the_projector_read_the_body_in_their_language(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(DECK)
    first, page = session["activities"]
    presenter.control(session["id"], "goto", first["id"])
    caught_up(client, session["id"])
    client.cookies.set("handsup_participant", join(client, session["code"]))
    spanish = client.get(f"/{session['code']}", headers=SPANISH).text
    assert "<h2>Una práctica</h2>" in spanish and "No un <em>cargo</em>." in spanish and "Liderazgo" in spanish
    english = client.get(f"/{session['code']}", headers=BROWSER).text
    assert "<h2>A practice</h2>" in english and "Una práctica" not in english
    german = client.get(f"/{session['code']}", headers=GERMAN).text  # a language the deck lacks: the deck's own
    assert "<h2>A practice</h2>" in german
    projector = client.get(session["projector_url"], headers=SPANISH).text
    assert "<h2>Una práctica</h2>" in projector

    presenter.control(session["id"], "goto", page["id"])
    caught_up(client, session["id"])
    assert "Mira la pantalla." in client.get(f"/{session['code']}", headers=SPANISH).text
    assert "Look at the screen." in client.get(f"/{session['code']}", headers=BROWSER).text
