"""Apply a retention policy to an institute's cohorts through Handsup's API: for every cohort that ended more than
DAYS days ago, save its archive, then delete who joined and who answered what (the results stay, without names).

    HANDSUP_URL=http://127.0.0.1:8000 HANDSUP_TOKEN=hsu_... python examples/scripts/retention.py INSTITUTE_ID DAYS

The token is an API token of the institute's organizer (or an admin). Without `--prune` the script only says what
it would do; with it, each cohort's archive is saved as `<cohort slug>.zip` before its participants' data goes, and
the script prints what went. The confirmation the cohort page asks a person to type, the cohort's name, is sent as
`confirm` (docs/api.md, "Cohorts: editing, starting a session, retention"); a cohort with a live session is left
as it is and said so.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from os import environ
from pathlib import Path

from handsup_client import ApiError, Handsup


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main(arguments: list[str]) -> int:
    prune = "--prune" in arguments
    given = [argument for argument in arguments if argument != "--prune"]
    if len(given) != 2 or not all(argument.isdigit() for argument in given):
        sys.stderr.write(__doc__ or "")
        return 2
    institute_id, days = int(given[0]), int(given[1])
    before = date.today() - timedelta(days=days)
    with Handsup(environ["HANDSUP_URL"], environ["HANDSUP_TOKEN"]) as handsup:
        for cohort in handsup.institute(institute_id).cohorts or []:
            if cohort.ends_on is None or cohort.ends_on >= before:
                say(f"{cohort.name}: kept (ends {cohort.ends_on or 'on no set day'})")
                continue
            if not prune:
                say(f"{cohort.name}: would be pruned (ended {cohort.ends_on})")
                continue
            archive = Path(f"{cohort.slug}.zip")
            archive.write_bytes(handsup.cohort_archive(cohort.id))
            try:
                done = handsup.prune_cohort(cohort.id, confirm=cohort.name)
            except ApiError as refused:
                say(f"{cohort.name}: not pruned: {refused.detail}")
                continue
            say(
                f"{cohort.name}: archive saved as {archive}; pruned {done.sessions} sessions, "
                f"{done.participants} participants, {done.responses} responses"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
