"""An archive's XLSX workbook: a Results sheet (each activity's numbers as the projector showed them, with a native
bar chart), a Summary sheet, then one sheet per activity holding its raw responses.

Written with openpyxl's write-only mode, so a sheet's rows go to disk as they are added and an institute's workbook
is never held in memory whole (the Results and Summary sheets grow while the response sheets are written). In that
mode column widths and frozen panes must be set before a sheet's first row; charts may be added until it closes.
openpyxl stores any text that starts with "=" as a formula; every text cell here is forced to be a string, so an
answer like `=HYPERLINK(...)` is shown, never run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, cast

from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from activities.base import Chart
from activities.i18n import N_, _, ngettext
from server.exports import FORMULA_STARTS, Participants, header_of
from server.web.i18n import format_number

MAX_SHEET_NAME = 31
RESULTS = "Results"
SUMMARY = "Summary"
LEADERBOARD = "Leaderboard"
# The Leaderboard sheet's columns (keys of leaderboard.csv's rows), headings and widths; the teams' below them.
# Sheet names stay English whatever the language (scripts find sheets by name); headings, titles and notes are in the
# language of whoever downloads the archive (docs/archives.md), translated as each is written.
LEADERBOARD_SHEET = (
    ("rank", N_("Rank"), 7),
    ("name", N_("Name"), 28),
    ("team", N_("Team"), 22),
    ("points", N_("Points"), 15),
)
LEADERBOARD_BONUS = ("bonus", N_("Streak bonus"), 14)
TEAMS_SHEET = (("rank", N_("Rank")), ("team", N_("Team")), ("members", N_("Members")), ("points", N_("Points (mean)")))
# Excel refuses these in sheet names, and "History" (its change log's name) as a whole name.
_NOT_IN_NAMES = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
RESERVED_NAMES = frozenset({"history"})
ELLIPSIS = "…"

DATE_TIME = "yyyy-mm-dd hh:mm:ss"
PERCENT = "0%"
MEAN = "0.0#"
FONT = "Calibri"  # the workbook's own default: bold cells keep the face of the others (LibreOffice: Carlito)
BOLD = Font(name=FONT, bold=True)
HEADER_FILL = PatternFill("solid", start_color="E8EEF4")
TITLE = Font(name=FONT, bold=True, size=14)
HEADING = Font(name=FONT, bold=True, size=12)
NOTE = Font(name=FONT, italic=True, color="555555")
# Column widths in characters: a response sheet's are fitted to what it holds, within these bounds.
MIN_WIDTH, MAX_WIDTH = 8, 60
WIDTH_SAMPLE = 500  # rows looked at to fit a column; enough to see what a column holds
# The Results sheet: the numbers in A-E, the chart to their right from column G.
RESULTS_WIDTHS = (48, 16, 11, 11, 11, 11)
CHART_COLUMN = "G"
BESIDE_SERIES = 3  # a chart of its own table (series from column C) beside it while that table ends by column E
CHART_WIDTH_CM = 17.0
ROW_CM = 0.53  # a default row (15 points) is about this tall: a block leaves room below its chart
MAX_UNIT_STEPS = 10  # a value axis up to this many counts ticks every 1
MAX_CHART_BARS = 15  # of a kind without its own chart (the word cloud's top words)
# A column of a kind's result lines, its heading on the Results sheet, and its number format.
RESULT_COLUMNS = (("detail", N_("Detail"), None), ("count", N_("Count"), None))
NUMBER_COLUMNS = (("share", "%", PERCENT), ("mean", N_("Mean"), MEAN))
# The response sheets' columns every kind has, headed in words (a kind's own columns are headed as they are named).
COLUMN_HEADINGS = {"participant": N_("Participant")}


@dataclass
class ResultsBlock:
    """One activity on the Results sheet: its results as the projector showed them, and where its responses are."""

    position: int
    title: str
    label: str  # the kind's label: "Poll"
    respondents: int
    lines: list[dict[str, Any]]  # the kind's result lines (ActivityKind.result_lines)
    chart: Chart | None  # the kind's chart (ActivityKind.chart); None: the top counts of its lines, if any
    sheet: str  # the sheet of its raw responses
    aggregate_only: bool = False


@dataclass
class _Block:
    """What the Results sheet is writing: rows so far, and the charts to add before it closes."""

    row: int = 0
    charts: list[BarChart] = field(default_factory=list)


class Workbook:
    """A Results sheet, a Summary sheet, then sheets of responses; unique, Excel-safe names; text that stays text."""

    def __init__(self, summary_columns: Sequence[str], title: str) -> None:
        self._book = OpenpyxlWorkbook(write_only=True)
        self._taken: set[str] = set()
        self._results = self._sheet(RESULTS)
        _widths(self._results, RESULTS_WIDTHS)
        _print_across(self._results)
        self._block = _Block()
        self._summary = self._sheet(SUMMARY)
        self._summary_columns = list(summary_columns)
        _widths(self._summary, [max(len(column) + 2, 12) for column in self._summary_columns])
        self._summary.freeze_panes = "A2"
        self._summary.append([self._text(self._summary, column, BOLD, HEADER_FILL) for column in summary_columns])
        self._append_result([self._text(self._results, title, TITLE)])

    # --- the Results sheet ------------------------------------------------------------------------------------

    def add_session(self, title: str, about: str) -> None:
        """A session's heading on the Results sheet: its title, then its cohort, day and time zone."""
        self._append_result([])
        self._append_result([self._text(self._results, title, TITLE)])
        self._append_result([self._text(self._results, about, NOTE)])

    def add_results(self, block: ResultsBlock) -> None:
        """An activity's results: a heading, its numbers, and a bar chart beside them where there is one."""
        sheet = self._results
        self._append_result([])
        self._append_result([self._text(sheet, f"{block.position} {block.title}", HEADING)])
        people = ngettext("{count} person answered", "{count} people answered", block.respondents)
        where = _("responses on sheet “{sheet}”").format(sheet=block.sheet)
        about = f"{block.label} · {people.format(count=format_number(block.respondents))} · {where}"
        if block.aggregate_only:
            about += " " + _("(participant-level data deleted: results only)")
        self._append_result([self._text(sheet, about)])
        top = self._block.row + 1
        columns = self._columns(block.lines)
        if not columns:
            self._append_result([self._text(sheet, _("Nothing to show."), NOTE)])
            return
        self._append_result(
            [self._text(sheet, name, BOLD, HEADER_FILL) if used else None for _key, name, _style, used in columns]
        )
        first = self._block.row + 1
        for line in block.lines:
            self._append_result([self._number_or_text(line.get(key), style) for key, _name, style, _used in columns])
        chart = self._chart(block, columns, first) if block.respondents else None  # no bars of nobody
        if chart is None:
            return
        if len(chart.series) > BESIDE_SERIES:  # its table reaches under where the chart would be: put it below
            self._append_result([])
            top = self._block.row + 1
            chart.anchor = f"A{top}"
        else:
            chart.anchor = f"{CHART_COLUMN}{top}"
        self._block.charts.append(chart)
        rows_under_chart = int(chart.height / ROW_CM) + 1
        for _row in range(top + rows_under_chart - self._block.row):
            self._append_result([])

    def _columns(self, lines: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str | None, bool]]:
        """The result lines' columns, always in the same place (label, detail, count, %, mean: A to E), and whether
        any line fills each one (an unused one gets no header); none when there are no lines."""
        if not lines:
            return []
        what = str(lines[0].get("line") or "").capitalize() or _("Item")
        wanted = [("label", what, None), *RESULT_COLUMNS, *NUMBER_COLUMNS]
        return [
            (
                key,
                _(name) if key != "label" else name,
                style,
                key == "label" or any(line.get(key) not in (None, "") for line in lines),
            )
            for key, name, style in wanted
        ]

    def _chart(
        self, block: ResultsBlock, columns: list[tuple[str, str, str | None, bool]], first: int
    ) -> BarChart | None:
        """A native bar chart of the block: of the table just written when it holds the chart's numbers (or, for
        a kind without a chart, its top counts), else of the chart's own rows written below the table."""
        keys = [key for key, _name, _style, used in columns if used]
        keys = [key if key in keys else "" for key, _name, _style, _used in columns]
        if block.chart is None:
            if "count" not in keys or not any(isinstance(line.get("count"), int | float) for line in block.lines):
                return None
            bars = min(len(block.lines), MAX_CHART_BARS)
            chart = self._bar_chart(block.title, "people", first, bars, [keys.index("count") + 1], ())
            return _axis(chart, [float(line.get("count") or 0) for line in block.lines[:bars]], None)
        same = _column_matching(block.chart, block.lines, keys)
        if same is not None:
            chart = self._bar_chart(block.title, block.chart.unit, first, len(block.lines), [same + 1], ())
            values, full = [row.values[0] for row in block.chart.rows], block.chart.scale
            if columns[same][2] == PERCENT:  # the cells hold 0.45 for the 45 the kind charts
                values, full = [value / 100 for value in values], full / 100 if full else None
            return _axis(chart, values, full)
        return self._chart_of_rows(block.title, block.chart)

    def _chart_of_rows(self, title: str, chart: Chart) -> BarChart | None:
        """The chart's rows as a small table (label, one column per series) under the results, and a chart of it."""
        if not chart.rows:
            return None
        sheet = self._results
        series = chart.series or (chart.unit,)
        self._append_result([])
        header = [self._text(sheet, _("Chart: {unit}").format(unit=chart.unit), BOLD, HEADER_FILL)]
        header += [self._text(sheet, name, BOLD, HEADER_FILL) for name in series]
        # Series sit in columns C onwards, under the table's numbers: B stays for the label's overflow.
        self._append_result([header[0], None, *header[1:]])
        first = self._block.row + 1
        for row in chart.rows:
            self._append_result([self._text(sheet, row.label), None, *row.values])
        data_columns = [3 + index for index in range(len(series))]
        stacked = bool(chart.series)
        drawn = self._bar_chart(title, chart.unit, first, len(chart.rows), data_columns, series, stacked=stacked)
        return _axis(drawn, [sum(row.values) if stacked else max(row.values) for row in chart.rows], chart.scale)

    def _bar_chart(
        self,
        title: str,
        unit: str,
        first: int,
        rows: int,
        data_columns: list[int],
        series: Sequence[str],
        *,
        stacked: bool = False,
    ) -> BarChart:
        """Horizontal bars of `rows` rows from `first`: labels in column A, values in `data_columns`; the header
        row above them names the series."""
        sheet = self._results
        chart = BarChart()
        chart.type = "bar"
        chart.style = 10
        chart.gapWidth = 40  # bars about as thick as the gaps between them, as on the projector
        chart.title = _fit(title, 60)
        chart.y_axis.title = unit
        chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as on the projector
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        chart.y_axis.majorGridlines = None
        chart.legend = None if len(data_columns) == 1 else chart.legend
        if chart.legend is not None:
            chart.legend.position = "b"
        if stacked:
            chart.grouping = "stacked"
            chart.overlap = 100
        for column in data_columns:
            values = Reference(sheet, min_col=column, min_row=first - 1, max_row=first + rows - 1)
            chart.add_data(values, titles_from_data=True)
        labels = Reference(sheet, min_col=1, min_row=first, max_row=first + rows - 1)
        for each in chart.series:  # labels are text: a string reference (openpyxl's set_categories makes a number one)
            each.cat = AxDataSource(strRef=StrRef(f=labels))
        size = cast(Any, chart)  # centimetres, floats (openpyxl's stubs say int)
        size.width = CHART_WIDTH_CM
        size.height = max(6.0, 3.0 + 0.9 * rows + (1.0 if series else 0.0))  # room for every label
        return chart

    def _append_result(self, row: list[Any]) -> None:
        self._results.append(row)
        self._block.row += 1

    # --- a session's leaderboard ----------------------------------------------------------------------------------

    def add_leaderboard(
        self,
        title: str,
        rows: Sequence[Mapping[str, Any]],
        teams: Sequence[Mapping[str, Any]] | None,
        *,
        streak: bool,
        pruned: bool = False,
    ) -> str:
        """A session's Leaderboard sheet: its title, then everyone ranked (rank, name, team, points, streak bonus;
        leaderboard.csv's rows), and when it has teams (`teams` not None) their standings below; returns its name."""
        sheet = self._sheet(LEADERBOARD)
        columns = [*LEADERBOARD_SHEET, LEADERBOARD_BONUS]
        _widths(sheet, [width for _key, _heading, width in columns])
        _print_across(sheet)
        sheet.freeze_panes = "A4"
        sheet.append([self._text(sheet, _("Leaderboard: {title}").format(title=title), TITLE)])
        about = (
            _("Points of the revealed scored questions, streak bonus included; equal points share a rank.")
            if streak
            else _(
                "Points of the revealed scored questions (no streak bonus in this session); equal points share a rank."
            )
        )
        sheet.append([self._text(sheet, about, NOTE)])
        sheet.append([self._text(sheet, _(heading), BOLD, HEADER_FILL) for _key, heading, _width in columns])
        for row in rows:
            sheet.append([self._cell(sheet, row.get(key)) for key, _heading, _width in columns])
        if not rows:
            why = (
                _("No one was ranked: participant-level data was deleted.")
                if pruned
                else _("No one was ranked: no scored question was revealed.")
            )
            sheet.append([self._text(sheet, why, NOTE)])
        if teams is not None:
            sheet.append([])
            sheet.append([self._text(sheet, _("Teams"), HEADING)])
            about = _("A team's points are the mean of its ranked members' points, rounded to a whole number.")
            sheet.append([self._text(sheet, about, NOTE)])
            sheet.append([self._text(sheet, _(heading), BOLD, HEADER_FILL) for _key, heading in TEAMS_SHEET])
            for team in teams:
                sheet.append([self._cell(sheet, team.get(key)) for key, _heading in TEAMS_SHEET])
        sheet.close()
        return str(sheet.title)

    # --- the Summary sheet and the response sheets --------------------------------------------------------------

    def add_summary_row(self, row: Mapping[str, Any]) -> None:
        self._summary.append([self._cell(self._summary, row.get(column)) for column in self._summary_columns])

    def add_sheet(self, name: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], time_zone: str) -> str:
        """A sheet of these rows under `columns` (then any column the rows bring), headed in words, with date-time
        cells local to `time_zone` (named in the header); returns the name it got."""
        sheet = self._sheet(name)
        header = [column for column in header_of(columns, rows) if column != "time_zone"]
        titles = [_heading(column, time_zone) for column in header]
        widths = []
        for title, column in zip(titles, header, strict=True):
            width = max([len(title)] + [_width_of(row.get(column)) for row in rows[:WIDTH_SAMPLE]])
            widths.append(min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
        _widths(sheet, widths)
        sheet.freeze_panes = "A2"
        sheet.append([self._text(sheet, title, BOLD, HEADER_FILL) for title in titles])
        for row in rows:
            sheet.append([self._response_cell(sheet, column, row.get(column)) for column in header])
        sheet.close()  # its rows are on disk now; no file stays open per sheet
        return str(sheet.title)

    def save(self, target: IO[bytes]) -> None:
        for chart in self._block.charts:
            cast(Any, self._results).add_chart(chart)  # write-only sheets take charts (openpyxl's stubs miss it)
        self._book.save(target)

    def _sheet(self, wanted: str) -> WriteOnlyWorksheet:
        title = sheet_name(wanted, self._taken)
        self._taken.add(title.casefold())
        sheet: WriteOnlyWorksheet = self._book.create_sheet(title)
        return sheet

    def _response_cell(self, sheet: WriteOnlyWorksheet, column: str, value: Any) -> Any:
        if column == "participant" and isinstance(value, int):
            return self._text(sheet, _("Participant {number}").format(number=value))
        return self._cell(sheet, value)

    def _number_or_text(self, value: Any, number_format: str | None) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if number_format == PERCENT:
                value = value / 100
            if number_format is None:
                return value
            cell = WriteOnlyCell(self._results, value=value)
            cell.number_format = number_format
            return cell
        return self._cell(self._results, value)

    @classmethod
    def _cell(cls, sheet: WriteOnlyWorksheet, value: Any) -> Any:
        """Numbers stay numbers, moments are date-time cells; anything else is a string cell, whatever it starts
        with."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None, microsecond=0))
            cell.number_format = DATE_TIME
            return cell
        if isinstance(value, Participants):
            return cls._text(sheet, value.readable())
        return cls._text(sheet, value)

    @staticmethod
    def _text(sheet: WriteOnlyWorksheet, value: Any, font: Font | None = None, fill: PatternFill | None = None) -> Cell:
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell: Cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = TYPE_STRING  # openpyxl made "=..." a formula and "#N/A" an error: text it is
        if text.startswith(FORMULA_STARTS):
            cell.quotePrefix = True  # and it stays text when someone edits the cell in Excel
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        return cell


def _axis(chart: BarChart, values: Sequence[float], full: float | None) -> BarChart:
    """The value axis from 0 to what a full bar stands for (everyone who answered, 100 points) where the kind says,
    in whole steps when it counts a few people (no "0.5 people")."""
    chart.y_axis.scaling.min = 0
    if full:
        chart.y_axis.scaling.max = full
    top = full or max(values, default=0)
    if top <= MAX_UNIT_STEPS and all(float(value).is_integer() for value in values):
        chart.y_axis.majorUnit = 1
    return chart


def _print_across(sheet: WriteOnlyWorksheet) -> None:
    """Printed (or made a PDF) landscape, one page wide: the numbers and their chart side by side."""
    setup = cast(Any, sheet)  # write-only sheets have these (openpyxl's stubs miss them)
    setup.page_setup.orientation = "landscape"
    setup.page_setup.fitToWidth = 1
    setup.page_setup.fitToHeight = 0
    setup.sheet_properties.pageSetUpPr.fitToPage = True


def _widths(sheet: WriteOnlyWorksheet, widths: Sequence[float]) -> None:
    """Column widths in characters, from column A; a write-only sheet takes them before its first row."""
    columns = cast(Any, sheet).column_dimensions  # write-only sheets have them (openpyxl's stubs miss it)
    for index, width in enumerate(widths, start=1):
        columns[get_column_letter(index)].width = width


def _column_matching(chart: Chart, lines: Sequence[Mapping[str, Any]], keys: list[str]) -> int | None:
    """The index of the table column that holds a one-series chart's numbers row by row (a poll's counts, a
    ranking's mean ranks), so the chart draws the table itself; None when the chart has its own rows."""
    if chart.series or len(chart.rows) != len(lines):
        return None
    if any(row.label != line.get("label") for row, line in zip(chart.rows, lines, strict=True)):
        return None
    for index, key in enumerate(keys):
        if all(
            isinstance(line.get(key), int | float) and len(row.values) == 1 and row.values[0] == line.get(key)
            for row, line in zip(chart.rows, lines, strict=True)
        ):
            return index
    return None


def _heading(column: str, time_zone: str) -> str:
    """A column's header in words: `answered_at` says the zone its times are in."""
    if column == "answered_at":
        return _("Answered ({zone})").format(zone=time_zone)
    if column in COLUMN_HEADINGS:
        return _(COLUMN_HEADINGS[column])
    return column.replace("_", " ").capitalize()


def _width_of(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len(DATE_TIME)
    if isinstance(value, Participants):
        return len(value.readable())
    return max((len(line) for line in str(value).splitlines()), default=0)


def _fit(text: str, limit: int) -> str:
    """The text cut to `limit` characters at a word where it can be (not a mid-word cut), with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" '-·:,;.") + ELLIPSIS


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A name Excel accepts: no []:*?/\\, at most 31 characters (cut at a word, with an ellipsis), not blank, unique
    among `taken` (case-folded): `6 Call for resources`, then `6 Call for resources (2)`."""
    base = " ".join(_NOT_IN_NAMES.sub(" ", wanted).split()).strip("' ") or "Sheet"
    n, suffix = 1, ""
    while True:
        name = _fit(base, MAX_SHEET_NAME - len(suffix)).strip("' ") + suffix
        if name.casefold() not in taken and name.casefold() not in RESERVED_NAMES:
            return name
        n += 1
        suffix = f" ({n})"
