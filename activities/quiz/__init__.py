"""`quiz`: a question with a right answer (options to pick, or an answer to type) and a time limit; a right answer
scores points that fall with the time the server measured, and the session's questions add up to standings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from activities.base import (
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    SignedTally,
    distinct_labels,
    field_values,
    whole_number,
)
from activities.i18n import N_, _
from activities.images import ImageRef
from activities.quiz.api import QuizAnswer, QuizResults
from activities.quiz.matching import accepts, answer_key
from activities.scoring import server_elapsed, time_limit_field, timed_points
from activities.text import tidy

MAX_OPTIONS = 10
MAX_OPTION_LENGTH = 120
MAX_ACCEPTED = 20
MAX_ANSWER_LENGTH = 120

OptionImage = Annotated[
    ImageRef | None,
    Field(json_schema_extra={"widget": "image"}, description=N_("The picture shown with this option (or none)")),
]


class QuizConfig(KindConfig):
    options: list[str] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        description=N_("For a question people answer by picking: the options (leave empty for a typed answer)"),
    )
    correct: list[int] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        description=N_("The number of each right option, counting from 1 (with several, people pick every right one)"),
    )
    images: list[OptionImage] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        description=N_("A picture for each option, in the options' order (leave one empty for an option without)"),
        json_schema_extra={"parallel": "options"},  # the editor offers a picture by each option, not by each number
    )
    accepted: list[str] = Field(
        default_factory=list,
        max_length=MAX_ACCEPTED,
        description=N_(
            "For a question people answer by typing: every answer that counts as right (case, accents "
            "and, from 5 letters, one typo are forgiven)"
        ),
    )
    time_limit: int = time_limit_field()
    points: bool = Field(default=True, description=N_("Right answers score points (off: a warm-up, marked only)"))

    @field_validator("options")
    @classmethod
    def _distinct_options(cls, options: list[str]) -> list[str]:
        return distinct_labels(options, "option", MAX_OPTION_LENGTH) if options else options

    @field_validator("accepted")
    @classmethod
    def _distinct_accepted(cls, accepted: list[str]) -> list[str]:
        cleaned = [tidy(answer) for answer in accepted]
        if any(not answer_key(answer) for answer in cleaned):
            raise ValueError(_("an accepted answer is empty (or only punctuation)"))
        if any(len(answer) > MAX_ANSWER_LENGTH for answer in cleaned):
            raise ValueError(_("an accepted answer is longer than {limit} characters").format(limit=MAX_ANSWER_LENGTH))
        if len({answer_key(answer) for answer in cleaned}) != len(cleaned):
            raise ValueError(_("two accepted answers are the same (ignoring case, accents and punctuation)"))
        return cleaned

    @model_validator(mode="after")
    def _one_shape(self) -> QuizConfig:
        if self.options and self.accepted:
            raise ValueError(_("give options (to pick from) or accepted answers (to type), not both"))
        if not self.options and not self.accepted:
            raise ValueError(_("give options to pick from (with the correct ones) or the accepted answers to type"))
        if self.accepted and (self.correct or self.images):
            raise ValueError(_("correct and images are for options: a typed answer has accepted answers only"))
        if self.options:
            if len(self.options) < 2:
                raise ValueError(_("give at least 2 options"))
            if not self.correct:
                raise ValueError(_("correct: give the number of the right option (1 is the first)"))
            if any(not 1 <= number <= len(self.options) for number in self.correct):
                raise ValueError(_("correct: option numbers go from 1 to {count}").format(count=len(self.options)))
            if len(set(self.correct)) != len(self.correct):
                raise ValueError(_("correct: an option is named twice"))
            if self.images and len(self.images) != len(self.options):
                raise ValueError(
                    _(
                        "images: give one per option, in the same order ({options} options, {images} images); "
                        "write null for an option without one"
                    ).format(options=len(self.options), images=len(self.images))
                )
        return self

    @property
    def typed(self) -> bool:
        """Whether people type the answer (else they pick options)."""
        return not self.options

    @property
    def right_choices(self) -> list[int]:
        """The indexes of the right options, ascending."""
        return sorted(number - 1 for number in self.correct)

    @property
    def multiple(self) -> bool:
        """Several options are right, so people pick several (every right one, and no other, is right)."""
        return len(self.correct) > 1

    def image_of(self, index: int) -> ImageRef | None:
        """The picture of the option at `index`, if it has one."""
        return self.images[index] if index < len(self.images) else None

    def judge(self, submission: QuizSubmission) -> tuple[bool, int]:
        """Whether an answer is right, and its points (for the phone's own result after the reveal)."""
        return is_right(self, submission), points_of(self, submission)


class QuizSubmission(KindSubmission):
    choices: list[int] = Field(default_factory=list, description="Indexes into the options, ascending")
    answer: str = Field(default="", description="The typed answer, tidied")
    elapsed: float = Field(ge=0, description="Seconds from the question's opening to the answer, by the server")

    @model_validator(mode="before")
    @classmethod
    def _timed_by_the_server(cls, data: Any, info: ValidationInfo) -> Any:
        """The time is the server's (the validation context's), whatever the data says."""
        context = info.context or {}
        if context.get("stored") or not isinstance(data, dict):
            return data
        elapsed = server_elapsed(info)
        answer = data.get("answer", "")
        if isinstance(answer, str):
            answer = tidy(answer)
            if len(answer) > MAX_ANSWER_LENGTH:
                raise ValueError(
                    _("That is too long: keep your answer to {limit} characters.").format(limit=MAX_ANSWER_LENGTH)
                )
        return {**data, "answer": answer, "elapsed": elapsed}

    @model_validator(mode="after")
    def _fits_config(self, info: ValidationInfo) -> QuizSubmission:
        context = info.context or {}
        if context.get("stored"):
            return self
        config: QuizConfig = context["config"]
        if config.typed:
            if self.choices or not self.answer:
                raise ValueError(_("Type your answer first."))
            return self
        if self.answer or not self.choices:
            raise ValueError(_("Pick an option first."))
        if any(not 0 <= choice < len(config.options) for choice in self.choices):
            raise ValueError(_("That option is not part of this question."))
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(_("An option was picked twice."))
        if not config.multiple and len(self.choices) > 1:
            raise ValueError(_("Pick one option."))
        return self


def is_right(config: QuizConfig, submission: QuizSubmission) -> bool:
    """Whether the answer is right: every right option and no other, or a typed answer an accepted one matches."""
    if config.typed:
        return accepts(config.accepted, submission.answer)
    return sorted(submission.choices) == config.right_choices


def points_of(config: QuizConfig, submission: QuizSubmission) -> int:
    """The points of an answer (activities/scoring.py: 1000 down to 500 for a right one); 0 for every answer to a
    question without points."""
    return timed_points(config.points and is_right(config, submission), submission.elapsed, config.time_limit)


class QuizTally(SignedTally[QuizConfig, QuizSubmission]):
    submission_model = QuizSubmission

    def clear(self) -> None:
        self.counts = [0] * len(self.config.options)
        self.right = 0

    def count(self, submission: QuizSubmission, by: int) -> None:
        for choice in submission.choices:
            self.counts[choice] += by
        if is_right(self.config, submission):
            self.right += by

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        people = self.respondents
        right = set(self.config.right_choices)
        return {
            "respondents": people,
            "right": self.right,
            "wrong": people - self.right,
            "right_percent": round(100 * self.right / people) if people else 0,
            "typed": self.config.typed,
            "accepted": list(self.config.accepted),
            "options": [
                {
                    "label": label,
                    "count": count,
                    "percent": round(100 * count / people) if people else 0,
                    "correct": index in right,
                }
                for index, (label, count) in enumerate(zip(self.config.options, self.counts, strict=True))
            ],
        }


class Quiz(ActivityKind[QuizConfig, QuizSubmission]):
    name = "quiz"
    label = N_("Quiz question")
    description = N_(
        "A question with a right answer, picked or typed, and a time limit: faster right answers score more, "
        "and the session's questions add up to a leaderboard."
    )
    translatable = frozenset({"options"})
    config_model = QuizConfig
    submission_model = QuizSubmission
    tally_class = QuizTally
    answer_model = QuizAnswer
    results_model = QuizResults

    def submission_from_form(self, config: QuizConfig, form: FormFields) -> dict[str, Any]:
        # A value that is no option index becomes -1, which the Submission refuses with its own message.
        values = field_values(form, "choice")
        choices = sorted(-1 if (index := whole_number(v, 3)) is None else index for v in values)
        return {"choices": choices, "answer": next(iter(field_values(form, "answer")), "")}

    def scored(self, config: QuizConfig) -> bool:
        return config.points  # a warm-up is marked, and no part of the standings (nor of anyone's streak)

    def closes_on_reveal(self, config: QuizConfig) -> bool:
        return True  # a warm-up's reveal gives its answer away too

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        lines = [
            {
                "line": "option",
                "label": option["label"],
                "detail": "right" if option["correct"] else "",
                "count": option["count"],
                "share": option["percent"],
            }
            for option in snapshot.get("options", [])
        ]
        right = {"line": "right", "label": "Right answers", "count": snapshot.get("right", 0)}
        return [*lines, {**right, "share": snapshot.get("right_percent", 0)}]

    def export_rows(self, config: QuizConfig, submission: QuizSubmission) -> list[dict[str, Any]]:
        picked = "; ".join(config.options[choice] for choice in submission.choices)
        return [
            {
                "answer": submission.answer if config.typed else picked,
                "option_indexes": " ".join(str(choice) for choice in submission.choices),
                "seconds": submission.elapsed,
                "right": is_right(config, submission),
                "points": points_of(config, submission),
            }
        ]

    def chart(self, config: QuizConfig, snapshot: Mapping[str, Any]) -> Chart:
        """People per option (the right ones marked), or right and wrong for a typed answer."""
        if snapshot["typed"]:
            rows = tuple(
                ChartRow(label, (snapshot[key],), str(snapshot[key]))
                for label, key in ((_("Right"), "right"), (_("Wrong"), "wrong"))
            )
        else:
            rows = tuple(
                ChartRow(
                    f"{option['label']} ✓" if option["correct"] else option["label"],
                    (option["count"],),
                    f"{option['count']} ({option['percent']}%)",
                )
                for option in snapshot["options"]
            )
        return Chart(rows, unit="people", scale=snapshot["respondents"] or None)


kind = Quiz()
