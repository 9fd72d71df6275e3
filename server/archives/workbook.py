"""An archive's XLSX workbook: a Summary sheet, then one sheet per activity holding its CSV's columns and rows.

Written with openpyxl's write-only mode, so a sheet's rows go to disk as they are added and an institute's workbook
is never held in memory whole. openpyxl stores any text that starts with "=" as a formula; every text cell here is
forced to be a string, so an answer like `=HYPERLINK(...)` is shown, never run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import IO, Any

from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING, Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from server.exports import FORMULA_STARTS, header_of

MAX_SHEET_NAME = 31
SUMMARY = "Summary"
# Excel refuses these in sheet names, and "History" (its change log's name) as a whole name.
_NOT_IN_NAMES = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
RESERVED_NAMES = frozenset({"history"})


class Workbook:
    """Sheets with unique, Excel-safe names; text cells that are always text."""

    def __init__(self, summary_columns: Sequence[str]) -> None:
        self._book = OpenpyxlWorkbook(write_only=True)
        self._taken: set[str] = set()
        self._summary = self._sheet(SUMMARY)
        self._summary_columns = list(summary_columns)
        self._summary.append(self._summary_columns)

    def add_summary_row(self, row: Mapping[str, Any]) -> None:
        self._summary.append([self._cell(self._summary, row.get(column)) for column in self._summary_columns])

    def add_sheet(self, name: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
        """A sheet of these rows under `columns` (then any column the rows bring); returns the name it got."""
        sheet = self._sheet(name)
        header = header_of(columns, rows)
        sheet.append(header)
        for row in rows:
            sheet.append([self._cell(sheet, row.get(column)) for column in header])
        sheet.close()  # its rows are on disk now; no file stays open per sheet
        return str(sheet.title)

    def save(self, target: IO[bytes]) -> None:
        self._book.save(target)

    def _sheet(self, wanted: str) -> WriteOnlyWorksheet:
        title = sheet_name(wanted, self._taken)
        self._taken.add(title.casefold())
        sheet: WriteOnlyWorksheet = self._book.create_sheet(title)
        return sheet

    @staticmethod
    def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
        """Numbers stay numbers; anything else is a string cell, whatever it starts with."""
        if value is None or isinstance(value, bool | int | float):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell: Cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = TYPE_STRING  # openpyxl made "=..." a formula and "#N/A" an error: text it is
        if text.startswith(FORMULA_STARTS):
            cell.quotePrefix = True  # and it stays text when someone edits the cell in Excel
        return cell


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A name Excel accepts: no []:*?/\\, at most 31 characters, not blank, unique among `taken` (case-folded)."""
    base = " ".join(_NOT_IN_NAMES.sub(" ", wanted).split()).strip("' ") or "Sheet"
    name, n = base[:MAX_SHEET_NAME].rstrip("' "), 1
    while name.casefold() in taken or name.casefold() in RESERVED_NAMES:
        n += 1
        suffix = f" ({n})"
        name = base[: MAX_SHEET_NAME - len(suffix)].rstrip("' ") + suffix
    return name
