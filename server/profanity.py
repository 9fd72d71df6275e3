"""The profanity filter: texts participants wrote that wait for the presenter before the room may read them.

Kind-agnostic. A kind says which texts of an answer are free text and under which moderation key the room would see
each (`KindSubmission.free_text`); its tally counts them (`Tally.free_texts`). `screened` adds to an activity's
moderation the keys whose text a word list flags (`filtered`), and every kind's snapshot holds those items back from
the projector until the presenter lets one through (`activities.base.Screening`). Nothing is deleted or changed:
the answer is stored as sent, and its participant is told "received" as usual.

How a text is read, so that a participant cannot trivially dodge the lists and innocent words pass:

- NFKC, invisible format characters (zero-width spaces, soft hyphens) dropped, case-folded, accents and other
  combining marks dropped except the tilde of ñ (Spanish "coño" is not "cono", a cone), letters of other scripts
  that look Latin (Cyrillic "о", Greek "ο") read as the Latin one;
- inside a word the usual swaps are read back (0 o, 3 e, 4 a, 5 s, 7 t, 8 b, 9 g, @ a, $ s, € e; 1 ! | as i or l), and
  a masked letter (* or #) stands for any letter; digits alone are a number, not a word ("455" is not "ass");
- words match whole (the Scunthorpe problem: "class", "assess", "Scunthorpe", "cockpit" and "analysis" pass), and
  phrases match runs of whole words; a list term says where a word may also start or end a longer one ("bitch*");
- a letter stretched to three or more matches one written once or twice in the list ("fuuuck", "asssss"), but two
  of a letter are two ("as" is not "ass", "assess" is not "asses");
- a word spelled out in single letters ("f u c k", "f.u.c.k") is read as one word.

Reading is linear in the text (a word is looked up by its letters, not tried against every term), and each word set
is compiled once and remembers its verdicts, so a live room screens the same answers again for nearly nothing.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from activities.base import FILTERED, Screening

WORDLISTS = Path(__file__).resolve().parent / "wordlists"
Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")
FILTER = "filter"
"""The moderation entry that keeps an activity's filter settings (only those that differ from the defaults)."""
MAX_EXTRA_WORDS = 200
MAX_TERM_LENGTH = 60
# A word with more masked letters than this ("f***") is self-censored already: it is not guessed at.
MAX_MASKS = 2
# Verdicts one word set remembers (a room screens the same answers on every push), and word sets compiled.
VERDICTS_KEPT = 65536
SCREENS_KEPT = 32

_SWAPS = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s", "€": "e"}
_SYMBOLS = frozenset("@$€")  # unlike digits, these make a word of their own: "@$$"
_I_OR_L = frozenset("1!|")
_MASKS = frozenset("*#")
_TILDE = "\u0303"
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("авекмнорстухѕіј", "abekmhopctyxsij", strict=True)),  # Cyrillic
        **dict(zip("αβεικνορτυχ", "abeikvoptux", strict=True)),  # Greek
    }
)

Word = tuple[str, ...]
"""One word as the filter reads it: every spelling it may stand for ("sh1t": "shit", "shlt"); a masked letter is
a "?" ("f*ck": "f?ck")."""


# --- reading a text -------------------------------------------------------------------------------------------------


def canonical(text: str) -> str:
    """NFKC, invisible format characters dropped, case-folded, accents off but ñ kept, look-alikes as Latin."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf").casefold()
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.category(ch).startswith("M") and not (ch == _TILDE and kept and kept[-1] == "n"):
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_LOOKALIKES)


def read_words(text: str) -> list[Word]:
    """The words of a text, in order, as the filter reads them."""
    words: list[Word] = []
    for chunk in canonical(text).split():
        cells = [_cell(ch) for ch in chunk]
        for between, run in itertools.groupby(cells, key=lambda cell: cell is None):
            if not between:
                words += _word([cell for cell in run if cell is not None])
    return words


def _cell(ch: str) -> tuple[str, str] | None:
    """One character of a word as (what it reads as, what it is); None for a character between words."""
    if ch.isalpha():
        return ch, "letter"
    if ch in _SWAPS:
        return _SWAPS[ch], "symbol" if ch in _SYMBOLS else "digit"
    if ch in _I_OR_L:
        return "1", "either"
    if ch in _MASKS:
        return "?", "mask"
    return None


def _word(cells: list[tuple[str, str]]) -> list[Word]:
    """The spellings of one word's characters (one, or two where a character is an i or an l); none when it is not
    a word (digits alone, too many masks)."""
    while cells and cells[0][1] in {"either", "mask"}:  # "!shit", and "shit!" below: punctuation, not letters
        cells.pop(0)
    while cells and cells[-1][1] in {"either", "mask"}:
        cells.pop()
    if not any(what in {"letter", "symbol"} for _, what in cells):
        return []
    template = "".join(reading for reading, _ in cells)
    if template.count("?") > MAX_MASKS:
        return []
    if "1" in template:
        return [(template.replace("1", "i"), template.replace("1", "l"))]
    return [(template,)]


def spelled_out(words: Sequence[Word]) -> Iterator[str]:
    """Words written one letter at a time ("f u c k", "f.u.c.k"): each run of 3 or more single letters, as one word
    (the whole run: "a s s e t" is "asset")."""
    letters = [word[0] if len(word[0]) == 1 else "" for word in words]
    for single, run in itertools.groupby(letters, key=bool):
        found = "".join(run)
        if single and len(found) >= 3:
            yield found


def collapsed(spelling: str) -> tuple[str, tuple[int, ...]]:
    """A spelling's letters with repeats written once, and how many times each was written: "fuuuck" ->
    ("fuck", (1, 3, 1, 1))."""
    letters: list[str] = []
    runs: list[int] = []
    for letter in spelling:
        if letters and letters[-1] == letter:
            runs[-1] += 1
        else:
            letters.append(letter)
            runs.append(1)
    return "".join(letters), tuple(runs)


# --- list terms -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One word of a list term: its collapsed letters, how often each is written at least, and whether longer words
    that start so (`open_end`, "bitch*") or end so (`open_start`, "*shit") match too."""

    letters: str
    runs: tuple[int, ...]
    open_start: bool = False
    open_end: bool = False

    def fits(self, letters: str, runs: tuple[int, ...]) -> bool:
        """Whether a collapsed spelling is this word (or holds it where the word's stars allow)."""
        size = len(self.letters)
        if len(letters) < size:
            return False
        if self.open_start and self.open_end:
            places: Iterable[int] = range(len(letters) - size + 1)
        elif self.open_start:
            places = (len(letters) - size,)
        elif self.open_end:
            places = (0,)
        else:
            places = (0,) if len(letters) == size else ()
        return any(letters[at : at + size] == self.letters and self._written(runs[at : at + size]) for at in places)

    def _written(self, runs: tuple[int, ...]) -> bool:
        """Whether each letter is written as this word writes it. Where the word is open, the letter at its edge may
        run on into the rest of a longer word ("bitchhh", "bullshit"): any count at least the word's will do."""
        last = len(runs) - 1
        return all(
            have >= need if (at == 0 and self.open_start) or (at == last and self.open_end) else _stretches(have, need)
            for at, (have, need) in enumerate(zip(runs, self.runs, strict=True))
        )


def _stretches(written: int, listed: int) -> bool:
    """Whether a letter written `written` times reads as one the list writes `listed` times: as often, or stretched
    to three or more ("fuuuck"). Two of a letter stay two, so "assess" is not "asses" and "woops" is not "wops"."""
    return written == listed or written >= max(listed, 3)


@dataclass(frozen=True)
class Term:
    """A word or phrase of a list, as written there, and the words it is matched by."""

    text: str
    parts: tuple[Part, ...]


def parse_term(text: str) -> Term:
    """A list term ("bitch*", "son of a bitch"); ValueError saying why a line is not one. Punctuation separates
    words as it does in a text ("low-hanging" is the phrase "low hanging")."""
    parts = []
    spaced = "".join(" " if _separates(ch) else ch for ch in canonical(text))
    for written in spaced.split():
        core = written.strip("*")
        if not core or not core.isalpha():
            raise ValueError(f"{text!r} is not a word or phrase of letters (a * may start or end a word)")
        letters, runs = collapsed(core)
        parts.append(Part(letters, runs, open_start=written.startswith("*"), open_end=written.endswith("*")))
    if not parts:
        raise ValueError("a term is empty")
    return Term(" ".join(text.split()), tuple(parts))


def _separates(ch: str) -> bool:
    """Whether a character of a term stands between words: punctuation that a text's reading never takes for a
    letter (a star is the term's own mark; @, !, # and the like are refused with digits)."""
    return unicodedata.category(ch).startswith("P") and ch != "*" and _cell(ch) is None


@lru_cache(maxsize=len(LANGUAGES))
def wordlist(language: str) -> tuple[Term, ...]:
    """One language's shipped list (server/wordlists/<language>.txt); ValueError naming the line of a bad term."""
    path = WORDLISTS / f"{language}.txt"
    terms = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            terms.append(parse_term(line))
        except ValueError as error:
            raise ValueError(f"{path.name} line {number}: {error}") from None
    return tuple(terms)


# --- matching -------------------------------------------------------------------------------------------------------


class _Index:
    """Single-word terms by the letters a word must equal, start with, end with or hold: each way a dict, so a word
    is looked up by its own slices (a few per length a term has), never tried against every term."""

    def __init__(self) -> None:
        self.whole: dict[str, list[Term]] = defaultdict(list)
        self.starts: dict[str, list[Term]] = defaultdict(list)
        self.ends: dict[str, list[Term]] = defaultdict(list)
        self.inside: dict[str, list[Term]] = defaultdict(list)

    def add(self, key: str, part: Part, term: Term) -> None:
        if part.open_start and part.open_end:
            self.inside[key].append(term)
        elif part.open_start:
            self.ends[key].append(term)
        elif part.open_end:
            self.starts[key].append(term)
        else:
            self.whole[key].append(term)

    def sizes(self) -> tuple[list[int], list[int], list[int]]:
        """The lengths of the keys to slice a word by: those that start, end and are held by words."""
        starts, ends, inside = (sorted({len(key) for key in table}) for table in (self.starts, self.ends, self.inside))
        return starts, ends, inside

    def candidates(self, key: str, sizes: tuple[list[int], list[int], list[int]]) -> Iterator[Term]:
        """The terms whose letters `key` is, starts with, ends with or holds (each to be checked by its runs)."""
        yield from self.whole.get(key, ())
        starts, ends, inside = sizes
        for size in starts:
            if size <= len(key):
                yield from self.starts.get(key[:size], ())
        for size in ends:
            if size <= len(key):
                yield from self.ends.get(key[-size:], ())
        for size in inside:
            for at in range(len(key) - size + 1):
                yield from self.inside.get(key[at : at + size], ())


class Screen:
    """A compiled word set: says whether a text holds one of its terms, and which."""

    def __init__(self, terms: Iterable[Term]) -> None:
        # Single words by their collapsed letters; and by their shortest writing with one or two letters masked
        # ("f?ck", "a??hole"), so a masked word is one lookup per slice rather than a guess of every letter.
        self._words = _Index()
        self._masked = _Index()
        # Phrases by their first word when it is a whole word; the others (few) are tried everywhere.
        self._phrases: dict[str, list[Term]] = defaultdict(list)
        self._open_phrases: list[Term] = []
        for term in terms:
            self._add(term)
        self._word_sizes = self._words.sizes()
        self._masked_sizes = self._masked.sizes()
        self.term_in = lru_cache(maxsize=VERDICTS_KEPT)(self._term_in)

    def _add(self, term: Term) -> None:
        first = term.parts[0]
        if len(term.parts) > 1:
            closed = not (first.open_start or first.open_end)
            (self._phrases[first.letters] if closed else self._open_phrases).append(term)
            return
        self._words.add(first.letters, first, term)
        written = "".join(letter * run for letter, run in zip(first.letters, first.runs, strict=True))
        for masks in range(1, MAX_MASKS + 1):
            for places in itertools.combinations(range(len(written)), masks):
                masked = list(written)
                for at in places:
                    masked[at] = "?"
                self._masked.add("".join(masked), first, term)

    def flags(self, text: str) -> bool:
        """Whether the text holds a term of this word set."""
        return self.term_in(text) is not None

    def _term_in(self, text: str) -> str | None:
        """The first term of this word set the text holds, as the list writes it; None when it holds none."""
        words = read_words(text)
        for at, word in enumerate(words):
            found = self._word_term(word) or self._phrase_at(words, at)
            if found is not None:
                return found.text
        for spelled in spelled_out(words):
            found = self._word_term((spelled,))
            if found is not None:
                return found.text
        return None

    def _word_term(self, word: Word) -> Term | None:
        for spelling in word:
            letters, runs = collapsed(spelling)
            for term in self._words.candidates(letters, self._word_sizes):
                if term.parts[0].fits(letters, runs):
                    return term
            if "?" in spelling:  # masked letters match as written: "f?ck" is "fuck", "a??hole" is "asshole"
                found = next(self._masked.candidates(spelling, self._masked_sizes), None)
                if found is not None:
                    return found
        return None

    def _phrase_at(self, words: Sequence[Word], at: int) -> Term | None:
        candidates = [term for spelling in words[at] for term in self._phrases.get(collapsed(spelling)[0], ())]
        for term in [*dict.fromkeys(candidates), *self._open_phrases]:
            following = words[at : at + len(term.parts)]
            if len(following) == len(term.parts) and all(
                any(part.fits(*collapsed(spelling)) for spelling in word)
                for part, word in zip(term.parts, following, strict=True)
            ):
                return term
        return None


@lru_cache(maxsize=SCREENS_KEPT)
def screen_for(languages: tuple[str, ...], extra_words: tuple[str, ...] = ()) -> Screen:
    """The compiled word set of these languages' lists and a deck's extra words (compiled once, then shared)."""
    return Screen([*(term for language in languages for term in wordlist(language)), *map(parse_term, extra_words)])


# --- settings -------------------------------------------------------------------------------------------------------


def _extra_word(text: str) -> str:
    text = " ".join(text.split())
    if not 0 < len(text) <= MAX_TERM_LENGTH:
        raise ValueError(f"an extra word has 1 to {MAX_TERM_LENGTH} characters")
    parse_term(text)
    return text


class FilterSettings(BaseModel):
    """An activity's profanity filter: as its deck sets it (`filter:`), switched on or off by the presenter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profanity: bool = Field(default=True, description="Hold texts with a listed term back from the room")
    languages: tuple[Language, ...] = Field(default=LANGUAGES, description="The shipped word lists to use")
    extra_words: tuple[Annotated[str, AfterValidator(_extra_word)], ...] = Field(
        default=(), max_length=MAX_EXTRA_WORDS, description="The deck's own terms, in the word lists' syntax"
    )

    @field_validator("languages")
    @classmethod
    def _once_each(cls, languages: tuple[Language, ...]) -> tuple[Language, ...]:
        return tuple(dict.fromkeys(languages))

    @property
    def screen(self) -> Screen:
        return screen_for(self.languages, self.extra_words)


def filter_of(moderation: Mapping[str, Any]) -> FilterSettings:
    """An activity's filter settings, from its moderation (an activity with none there has the defaults: on)."""
    return FilterSettings.model_validate(moderation.get(FILTER) or {})


def with_filter(moderation: Mapping[str, Any], settings: FilterSettings) -> dict[str, Any]:
    """Moderation keeping these filter settings: only what differs from the defaults, nothing when nothing does."""
    stored = settings.model_dump(mode="json", exclude_defaults=True)
    rest = {name: value for name, value in moderation.items() if name != FILTER}
    return {**rest, FILTER: stored} if stored else rest


def switched(moderation: Mapping[str, Any], on: bool) -> dict[str, Any]:
    """Moderation with the filter switched on or off, its word lists kept."""
    return with_filter(moderation, filter_of(moderation).model_copy(update={"profanity": on}))


# --- applying it ----------------------------------------------------------------------------------------------------


def screened(moderation: Mapping[str, Any], texts: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The moderation a snapshot is taken with: the presenter's, and under `filtered` the keys of the items whose
    text (key, text) the filter flags; none while it is off. The kinds leave out those the presenter let through."""
    settings = filter_of(moderation)
    flagged: set[str] = set()
    if settings.profanity:
        screen = settings.screen
        for key, text in texts:
            if key not in flagged and screen.flags(text):
                flagged.add(key)
    return {**moderation, FILTERED: sorted(flagged)}


def held_texts(moderation: Mapping[str, Any], texts: Iterable[tuple[str, str]]) -> set[str]:
    """Which of one answer's texts (key, text) the filter holds back from the room now: flagged, not let through."""
    settings = filter_of(moderation)
    if not settings.profanity:
        return set()
    passed = Screening.of(moderation).passed
    return {text for key, text in texts if key not in passed and settings.screen.flags(text)}
