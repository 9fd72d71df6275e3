"""The resource library: an institute's calls for resources, every cohort's, merged into one list (the kind's pool).

Resources of many runs are merged the way one call merges suggestions: the same web link is one resource, and one
without a link joins the biggest linked resource of the same title (or else the others of that title). Only what the
room could see is pooled: approved resources where the presenter approved them first, never hidden ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field

from activities.base import PoolCohort, PoolSource, PoolTable, digest, most_common

WEB_SCHEMES = frozenset({"http", "https"})
COLUMNS = ["type", "title", "link", "note", "suggested", "upvoted", "total"]


def identity_key(link: str | None, title: str) -> str:
    """The moderation key of a resource: a digest of its normalised link (as `same_link` compares it), or of its
    case-folded title."""
    return digest(["link", same_link(link)]) if link else digest(["title", title.casefold()])


def same_link(link: str) -> str:
    """A normalised link as resources compare it: a trailing slash of its path does not count
    (`https://example.org/guide/` and `https://example.org/guide` are one resource; the site's root is `/` either
    way). The link shown is the one most people gave."""
    parts = urlsplit(link)
    if len(parts.path) > 1 and parts.path.endswith("/"):
        return urlunsplit(parts._replace(path=parts.path.rstrip("/") or "/"))
    return link


class CohortRef(BaseModel):
    id: int
    slug: str
    name: str
    site: str


class CohortCount(BaseModel):
    cohort_id: int
    suggested: int = Field(description="People of this cohort who suggested it")
    upvoted: int = Field(description="People of this cohort who upvoted it")


class PooledResource(BaseModel):
    key: str
    type: str
    title: str
    link: str | None = Field(description="An http or https link, or null")
    note: str | None
    suggested: int = Field(description="People who suggested it, in every cohort")
    upvoted: int = Field(description="People who upvoted it, in every cohort")
    total: int
    cohorts: list[CohortCount] = Field(description="Only the cohorts where it was suggested or upvoted")

    @property
    def host(self) -> str | None:
        return urlsplit(self.link).netloc if self.link else None

    def count_in(self, cohort_id: int) -> CohortCount | None:
        """Its counts in one cohort, if it was suggested or upvoted there."""
        return next((count for count in self.cohorts if count.cohort_id == cohort_id), None)


class Library(BaseModel):
    """An institute's resources: every cohort's calls for resources, merged; those of one `type` if chosen."""

    types: list[str] = Field(description="Every type among the institute's resources")
    type: str | None = Field(description="The type asked for, if any")
    cohorts: list[CohortRef] = Field(description="The cohorts that ran a call for resources")
    resources: list[PooledResource] = Field(description="Most votes (suggested + upvoted) first")


Shown = tuple[PoolCohort, Mapping[str, Any]]  # a resource as one run's results show it, and its cohort


def web_link(link: Any) -> str | None:
    """A stored link if it is a web (http or https) link; anything else is not offered as a link."""
    return link if isinstance(link, str) and urlsplit(link).scheme in WEB_SCHEMES and urlsplit(link).netloc else None


def _weighted(members: Sequence[Shown], name: str) -> str | None:
    """The value of `name` most people gave among the members (weighted by suggesters), if any gave one."""
    counts: Counter[str] = Counter()
    for _, item in members:
        if item.get(name):
            counts[str(item[name])] += max(1, int(item.get("suggested_by") or 0))
    return most_common(counts) if counts else None


def _entry(key: str, members: Sequence[Shown]) -> PooledResource:
    suggested: Counter[int] = Counter()
    upvoted: Counter[int] = Counter()
    for cohort, item in members:
        suggested[cohort.id] += int(item.get("suggested_by") or 0)
        upvoted[cohort.id] += int(item.get("upvotes") or 0)
    counts = [
        CohortCount(cohort_id=cohort_id, suggested=suggested[cohort_id], upvoted=upvoted[cohort_id])
        for cohort_id in dict.fromkeys(cohort.id for cohort, _ in members)
    ]
    return PooledResource(
        key=key,
        type=_weighted(members, "type") or "",
        title=_weighted(members, "title") or "",
        link=_weighted([(cohort, {**item, "link": web_link(item.get("link"))}) for cohort, item in members], "link"),
        note=_weighted(members, "note"),
        suggested=sum(suggested.values()),
        upvoted=sum(upvoted.values()),
        total=sum(suggested.values()) + sum(upvoted.values()),
        cohorts=counts,
    )


def merge_resources(shown: Iterable[Shown]) -> list[PooledResource]:
    """Resources of many runs merged as the resources kind merges suggestions: the same web link is one resource,
    and one without a link joins the biggest linked resource of the same title (else the others of that title)."""
    linked: dict[str, list[Shown]] = defaultdict(list)
    unlinked: dict[str, list[Shown]] = defaultdict(list)
    for cohort, item in shown:
        link = web_link(item.get("link"))
        if link:
            linked[same_link(link)].append((cohort, item))
        else:
            unlinked[str(item.get("title") or "").casefold()].append((cohort, item))
    titles: dict[str, list[str]] = defaultdict(list)
    for link, members in linked.items():
        for folded in {str(item.get("title") or "").casefold() for _, item in members}:
            titles[folded].append(link)

    def people(link: str) -> int:
        return sum(int(item.get("suggested_by") or 0) for _, item in linked[link])

    groups: dict[str, list[Shown]] = {identity_key(link, ""): list(members) for link, members in linked.items()}
    for folded, members in unlinked.items():
        homes = titles.get(folded)
        if homes:
            home = min(homes, key=lambda link: (-people(link), link))
            groups[identity_key(home, "")] += members
        else:
            groups[identity_key(None, folded)] = list(members)
    entries = [_entry(key, members) for key, members in groups.items()]
    entries.sort(key=lambda entry: (-entry.total, entry.title.casefold(), entry.title, entry.key))
    return entries


def library(sources: Sequence[PoolSource], cohorts: Sequence[PoolCohort], resource_type: str | None) -> Library:
    """The library of every run's visible resources, merged, most votes first; only `resource_type` if given."""
    shown = [
        (source.cohort, item) for source in sources for item in source.results.get("resources", []) if item["visible"]
    ]
    entries = merge_resources(shown)
    types: dict[str, str] = {}  # case-folded -> as first written, in alphabetical order
    for entry in sorted(entries, key=lambda entry: (entry.type.casefold(), entry.type)):
        types.setdefault(entry.type.casefold(), entry.type)
    chosen = " ".join((resource_type or "").split())
    if chosen:
        entries = [entry for entry in entries if entry.type.casefold() == chosen.casefold()]
    return Library(
        types=list(types.values()),
        type=types.get(chosen.casefold(), chosen) if chosen else None,
        cohorts=[CohortRef(id=cohort.id, slug=cohort.slug, name=cohort.name, site=cohort.site) for cohort in cohorts],
        resources=entries,
    )


def library_table(found: Library) -> PoolTable:
    """One row per resource; per cohort (by its slug) how many suggested and upvoted it."""
    columns = [*COLUMNS]
    for cohort in found.cohorts:
        columns += [f"suggested_{cohort.slug}", f"upvoted_{cohort.slug}"]
    rows = []
    for entry in found.resources:
        row: dict[str, Any] = {
            "type": entry.type,
            "title": entry.title,
            "link": entry.link or "",
            "note": entry.note or "",
            "suggested": entry.suggested,
            "upvoted": entry.upvoted,
            "total": entry.total,
        }
        for cohort in found.cohorts:
            count = entry.count_in(cohort.id)
            row[f"suggested_{cohort.slug}"] = count.suggested if count else 0
            row[f"upvoted_{cohort.slug}"] = count.upvoted if count else 0
        rows.append(row)
    return PoolTable(columns, rows)


def as_results(found: Library) -> dict[str, Any]:
    """The library in the shape of one call's results, so the kind's documents render it as they render a call."""
    return {
        "resources": [
            {
                "title": entry.title,
                "link": entry.link,
                "type": entry.type,
                "note": entry.note,
                "suggested_by": entry.suggested,
                "upvotes": entry.upvoted,
                "visible": True,
            }
            for entry in found.resources
        ]
    }
