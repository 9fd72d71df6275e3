"""`poll`: single or multiple choice, shown as live bars with counts and percentages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from activities.base import (
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    Tally,
    distinct_labels,
    field_values,
    whole_number,
)
from activities.i18n import N_, _, ngettext
from activities.images import ImageRef
from activities.poll.api import PollAnswer, PollResults

MAX_OPTIONS = 20
MAX_OPTION_LENGTH = 120


OptionImage = Annotated[
    ImageRef | None,
    Field(json_schema_extra={"widget": "image"}, description=N_("The picture shown with this option (or none)")),
]


class PollConfig(KindConfig):
    options: list[str] = Field(min_length=2, max_length=MAX_OPTIONS, description=N_("The choices people pick from"))
    multiple: bool = Field(default=False, description=N_("People may pick more than one option"))
    max_choices: int | None = Field(
        default=None,
        ge=1,
        le=MAX_OPTIONS,
        description=N_("With several choices: at most this many (blank: any number)"),
    )
    images: list[OptionImage] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        description=N_(
            "A picture for each option, in the options' order (leave one empty for an option without); "
            "shown beside the option on phones and by its bar in the results; none at all leaves it out"
        ),
    )

    @field_validator("options")
    @classmethod
    def _distinct_options(cls, options: list[str]) -> list[str]:
        return distinct_labels(options, "option", MAX_OPTION_LENGTH)

    @model_validator(mode="after")
    def _an_image_per_option(self) -> PollConfig:
        if self.images and len(self.images) != len(self.options):
            raise ValueError(
                _(
                    "images: give one per option, in the same order ({options} options, {images} images); "
                    "write null for an option without one"
                ).format(options=len(self.options), images=len(self.images))
            )
        return self

    @model_serializer(mode="wrap")
    def _without_empty_images(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A poll without pictures is stored and archived as it was before polls had them."""
        data: dict[str, Any] = handler(self)
        if not data.get("images"):
            data.pop("images", None)
        return data

    def image_of(self, index: int) -> ImageRef | None:
        """The picture of the option at `index`, if it has one."""
        return self.images[index] if index < len(self.images) else None

    @property
    def choice_limit(self) -> int:
        """How many options one participant may pick."""
        if not self.multiple:
            return 1
        return self.max_choices or len(self.options)


class PollSubmission(KindSubmission):
    choices: list[int] = Field(description="Indexes into the poll's options, in ascending order")

    @model_validator(mode="after")
    def _fits_config(self, info: ValidationInfo) -> PollSubmission:
        config: PollConfig = (info.context or {})["config"]
        if not self.choices:
            raise ValueError(_("Pick an option first."))
        if any(not 0 <= choice < len(config.options) for choice in self.choices):
            raise ValueError(_("That option is not part of this poll."))
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(_("An option was picked twice."))
        limit = config.choice_limit
        if len(self.choices) > limit:
            raise ValueError(ngettext("Pick one option.", "Pick at most {limit} options.", limit).format(limit=limit))
        return self


class PollTally(Tally[PollConfig, PollSubmission]):
    submission_model = PollSubmission

    def clear(self) -> None:
        self.counts = [0] * len(self.config.options)

    def add(self, submission: PollSubmission) -> None:
        for choice in submission.choices:
            self.counts[choice] += 1

    def retract(self, submission: PollSubmission) -> None:
        for choice in submission.choices:
            self.counts[choice] -= 1

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        voters = self.respondents
        top = max(self.counts, default=0)
        return {
            "respondents": voters,
            "options": [
                {
                    "label": label,
                    "count": count,
                    "percent": round(100 * count / voters) if voters else 0,
                    "leading": count == top and count > 0,
                }
                for label, count in zip(self.config.options, self.counts, strict=True)
            ],
        }


class Poll(ActivityKind[PollConfig, PollSubmission]):
    name = "poll"
    label = N_("Poll")
    description = N_("One or several choices from a list, shown as live bars with counts and percentages.")
    translatable = frozenset({"options"})
    config_model = PollConfig
    submission_model = PollSubmission
    tally_class = PollTally
    answer_model = PollAnswer
    results_model = PollResults

    def submission_from_form(self, config: PollConfig, form: FormFields) -> dict[str, Any]:
        # A value that is no option index becomes -1, which the Submission refuses with its own message.
        values = field_values(form, "choice")
        return {"choices": sorted(-1 if (index := whole_number(v, 3)) is None else index for v in values)}

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {"line": "option", "label": option["label"], "count": option["count"], "share": option["percent"]}
            for option in snapshot.get("options", [])
        ]

    def export_rows(self, config: PollConfig, submission: PollSubmission) -> list[dict[str, Any]]:
        return [{"option": config.options[choice], "option_index": choice} for choice in submission.choices]

    def chart(self, config: PollConfig, snapshot: Mapping[str, Any]) -> Chart:
        """People per option, in deck order; a full bar is everyone who answered."""
        rows = tuple(
            ChartRow(option["label"], (option["count"],), f"{option['count']} ({option['percent']}%)")
            for option in snapshot["options"]
        )
        return Chart(rows, unit="people", scale=snapshot["respondents"] or None)


kind = Poll()
