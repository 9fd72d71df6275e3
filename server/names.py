"""What a session's leaderboard calls people: the nickname a phone chose, or a generated friendly name, and teams.

A session may ask phones for a nickname and offer teams (`Session.nicknames`, `Session.teams`); the phone chooses
after joining, as a step of its own (server/live/room.py `Room.choose_name`), and may change its choice until the
first question of a scoring kind is shown open. A phone without a nickname is shown by a generated name.

Generated names: an adjective and an animal ("Curious Otter", in Spanish "Nutria Curiosa", the adjective agreeing
with the animal's gender), picked from two short reviewed lists by the participant id, mixed with the session id. The
pick is a bijection on the ADJECTIVES x ANIMALS combinations (an odd step modulo their number, a power of two), so:

- every worker, and a room rebuilt from the database, gives a participant the same name (nothing is stored);
- two participants of a session whose ids are fewer than NAMES (1,024) apart never share a name: a session's people
  join at about the same time, so its first 200 share no name unless over 800 people joined other sessions between
  the first and the 200th;
- the same person is the same creature in every language (the lists are aligned word by word).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from activities.i18n import _
from activities.text import fold_accents, tidy
from server.profanity import LANGUAGES, screen_for

NICKNAME_MIN = 2
NICKNAME_MAX = 24
TEAMS_MAX = 12
TEAM_MAX = 60
# Punctuation a nickname may hold besides letters, digits and spaces: enough for "J.R.", "Ana-Sofía", "O'Neil".
_NICKNAME_PUNCTUATION = frozenset(".,-_'’!?&()")
# Combining marks piled three or more on one letter ("Zalgo" text that spills over the lines around it).
_MARKS_PILED = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{3,}")

# (English, Spanish masculine, Spanish feminine): friendly in both languages, none an insult when said of a person.
ADJECTIVES: tuple[tuple[str, str, str], ...] = (
    ("Curious", "Curioso", "Curiosa"),
    ("Brave", "Valiente", "Valiente"),
    ("Clever", "Ingenioso", "Ingeniosa"),
    ("Calm", "Tranquilo", "Tranquila"),
    ("Cheerful", "Alegre", "Alegre"),
    ("Gentle", "Apacible", "Apacible"),
    ("Happy", "Feliz", "Feliz"),
    ("Swift", "Veloz", "Veloz"),
    ("Bright", "Brillante", "Brillante"),
    ("Bold", "Audaz", "Audaz"),
    ("Kind", "Amable", "Amable"),
    ("Wise", "Sabio", "Sabia"),
    ("Lucky", "Afortunado", "Afortunada"),
    ("Mighty", "Poderoso", "Poderosa"),
    ("Nimble", "Ágil", "Ágil"),
    ("Patient", "Paciente", "Paciente"),
    ("Playful", "Juguetón", "Juguetona"),
    ("Proud", "Orgulloso", "Orgullosa"),
    ("Quiet", "Sereno", "Serena"),
    ("Radiant", "Radiante", "Radiante"),
    ("Witty", "Ocurrente", "Ocurrente"),
    ("Friendly", "Simpático", "Simpática"),
    ("Golden", "Dorado", "Dorada"),
    ("Silver", "Plateado", "Plateada"),
    ("Jolly", "Jovial", "Jovial"),
    ("Daring", "Atrevido", "Atrevida"),
    ("Eager", "Entusiasta", "Entusiasta"),
    ("Noble", "Noble", "Noble"),
    ("Lively", "Animado", "Animada"),
    ("Merry", "Risueño", "Risueña"),
    ("Cosmic", "Cósmico", "Cósmica"),
    ("Fearless", "Intrépido", "Intrépida"),
)

# (English, Spanish, the Spanish noun's gender): no animal whose name is a slur or a jibe in either language (no
# "zorra", "foca", "ballena", "burro", "pato", "cerdo", "rata", "gallina").
ANIMALS: tuple[tuple[str, str, str], ...] = (
    ("Otter", "Nutria", "f"),
    ("Fox", "Zorro", "m"),
    ("Owl", "Búho", "m"),
    ("Panda", "Panda", "m"),
    ("Koala", "Koala", "m"),
    ("Dolphin", "Delfín", "m"),
    ("Penguin", "Pingüino", "m"),
    ("Rabbit", "Conejo", "m"),
    ("Turtle", "Tortuga", "f"),
    ("Squirrel", "Ardilla", "f"),
    ("Hedgehog", "Erizo", "m"),
    ("Badger", "Tejón", "m"),
    ("Beaver", "Castor", "m"),
    ("Falcon", "Halcón", "m"),
    ("Swan", "Cisne", "m"),
    ("Heron", "Garza", "f"),
    ("Bee", "Abeja", "f"),
    ("Butterfly", "Mariposa", "f"),
    ("Giraffe", "Jirafa", "f"),
    ("Zebra", "Cebra", "f"),
    ("Llama", "Llama", "f"),
    ("Alpaca", "Alpaca", "f"),
    ("Lynx", "Lince", "m"),
    ("Tiger", "Tigre", "m"),
    ("Lion", "León", "m"),
    ("Elephant", "Elefante", "m"),
    ("Kangaroo", "Canguro", "m"),
    ("Hummingbird", "Colibrí", "m"),
    ("Octopus", "Pulpo", "m"),
    ("Gazelle", "Gacela", "f"),
    ("Frog", "Rana", "f"),
    ("Lark", "Alondra", "f"),
)

NAMES = len(ADJECTIVES) * len(ANIMALS)
# Odd, so stepping by it modulo NAMES (a power of two) visits every combination once; large, so neighbours differ in
# both words.
_STEP = 389


class NameRefused(ValueError):
    """A nickname or team the phone may not have; the message says why, in the participant's language, and the
    status is the API's (422: against the rules; 409: taken, or not now)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class TeamsInvalid(ValueError):
    """A session's teams as the facilitator typed them cannot be used; the message says why."""


def generated_name(session_id: int, participant_id: int, language: str = "en") -> str:
    """A participant's generated name in a language ("Curious Otter"; Spanish: "Nutria Curiosa")."""
    salt = int.from_bytes(hashlib.sha256(f"handsup-names:{session_id}".encode()).digest()[:4], "big")
    index = (participant_id * _STEP + salt) % NAMES
    english, masculine, feminine = ADJECTIVES[index % len(ADJECTIVES)]
    animal, animal_es, gender = ANIMALS[index // len(ADJECTIVES)]
    if language.split("_", 1)[0].split("-", 1)[0] == "es":
        return f"{animal_es} {feminine if gender == 'f' else masculine}"
    return f"{english} {animal}"


def name_key(text: str) -> str:
    """What makes two names the same: case, accents and spacing aside ("José" is "jose")."""
    return fold_accents(tidy(text)).casefold()


def profane(text: str) -> bool:
    """Whether the server's profanity filter (in every language it has lists for) flags the text."""
    return screen_for(LANGUAGES).flags(text)


def check_nickname(text: str) -> str:
    """A nickname as typed, tidied; NameRefused when it is too short or long, has odd characters or is profane."""
    nickname = tidy(text)
    if not NICKNAME_MIN <= len(nickname) <= NICKNAME_MAX:
        raise NameRefused(_("A nickname has {low} to {high} characters.").format(low=NICKNAME_MIN, high=NICKNAME_MAX))
    if not all(_nickname_character(ch) for ch in nickname) or _MARKS_PILED.search(nickname):
        raise NameRefused(_("A nickname may have letters, numbers, spaces and . , - _ ' ! ? & ( ) only."))
    if profane(nickname):
        raise NameRefused(_("Please choose another nickname."))
    return nickname


def _nickname_character(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch == " " or ch in _NICKNAME_PUNCTUATION or category[0] in "LN" or category in ("Mn", "Mc")


def check_teams(lines: Iterable[str]) -> list[str]:
    """A session's teams from the names typed (blank lines skipped), tidied; TeamsInvalid when there are more than
    TEAMS_MAX, one is longer than TEAM_MAX, two are the same (case and accents aside) or one is profane."""
    teams = [team for team in (tidy(line) for line in lines) if team]
    if len(teams) > TEAMS_MAX:
        raise TeamsInvalid(
            _("A session has at most {most} teams ({given} given).").format(most=TEAMS_MAX, given=len(teams))
        )
    seen: dict[str, str] = {}
    for team in teams:
        if len(team) > TEAM_MAX:
            raise TeamsInvalid(
                _("A team's name has at most {most} characters: “{team}…” is longer.").format(
                    most=TEAM_MAX, team=team[:TEAM_MAX]
                )
            )
        if profane(team):
            raise TeamsInvalid(
                _("The team name “{team}” is caught by the profanity filter: choose another.").format(team=team)
            )
        key = name_key(team)
        if key in seen:
            raise TeamsInvalid(
                _("Two teams have the same name: “{first}” and “{second}”.").format(first=seen[key], second=team)
            )
        seen[key] = team
    return teams
