"""The pin on an image's models in the JSON API: its answer's fields and its tally's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindResults


class PinAnswer(KindAnswer):
    """Where the pin is on the picture, in percent of its width and height (`42`, `42.5`, `42,5 %`), from 0 to 100."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"x": "40", "y": "25"}]})

    x: FormValue = Field(description="Across: 0 is the left edge, 100 the right")
    y: FormValue = Field(description="Down: 0 is the top edge, 100 the bottom")


class PinCell(KindResults):
    x: float = Field(description="The cell's centre across, in percent (a 20 x 20 grid of cells)")
    y: float
    count: int
    heat: float = Field(description="count / the fullest cell's, to three decimals")


class PinArea(KindResults):
    label: str
    x: float = Field(description="The area's left edge, in percent")
    y: float
    width: float
    height: float
    count: int = Field(description="Pins inside it")
    percent: int


class PinThird(KindResults):
    across: Literal["left", "centre", "right"]
    down: Literal["top", "middle", "bottom"]
    count: int


class PinResults(KindResults):
    respondents: int
    top: int = Field(description="The fullest cell's count")
    cells: list[PinCell] = Field(description="Cells with pins, row by row")
    areas: list[PinArea] = Field(description="The deck's areas, in deck order")
    inside: int = Field(description="Pins inside at least one area")
    thirds: list[PinThird] = Field(description="The picture's nine thirds, row by row")
