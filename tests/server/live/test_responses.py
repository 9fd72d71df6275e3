"""Turning what arrives (websocket JSON, API JSON, form posts) into a form a kind can validate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.live.intake import Refused, activity_of, form_from_json, parse_socket_message

pytestmark = pytest.mark.postgresql  # each test here runs on SQLite and on PostgreSQL


def refusal(call: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(Refused) as refused:
        call(*args)
    return refused.value.status, str(refused.value)


def test_form_from_json_takes_text_and_lists_of_text() -> None:
    assert form_from_json({"choice": "1", "word": ["trust", "care"]}, 100) == {
        "choice": ["1"],
        "word": ["trust", "care"],
    }


def test_form_from_json_reads_numbers_as_their_decimal_text() -> None:
    assert form_from_json({"activity": 7, "choice": [0, 2], "x": 1.5}, 100) == {
        "activity": ["7"],
        "choice": ["0", "2"],
        "x": ["1.5"],
    }


def test_form_from_json_leaves_out_htmx_headers() -> None:
    assert form_from_json({"choice": "1", "HEADERS": {"HX-Request": "true"}}, 100) == {"choice": ["1"]}


@pytest.mark.parametrize("value", [True, False, None, {"a": "b"}, [["nested"]], ["ok", None], [True]])
def test_form_from_json_refuses_anything_but_text_and_numbers(value: Any) -> None:
    assert refusal(form_from_json, {"choice": value}, 100) == (422, "The field 'choice' must be text.")


def test_form_from_json_refuses_a_value_over_the_limit_rather_than_cut_it() -> None:
    assert form_from_json({"word": ["x" * 10, "short"]}, 10) == {"word": ["x" * 10, "short"]}
    with pytest.raises(Refused, match=r"^That is too long: keep what you write to 10 characters\.$"):
        form_from_json({"word": ["x" * 11, "short"]}, 10)


def test_parse_socket_message_gives_the_form_without_htmx_headers() -> None:
    text = json.dumps({"activity": "12", "choice": ["0", "1"], "HEADERS": {"HX-Trigger": "form-12"}})
    form = parse_socket_message(text, 100)
    assert form == {"activity": ["12"], "choice": ["0", "1"]}
    assert activity_of(form) == 12


def test_a_numeric_activity_in_a_socket_message_is_read() -> None:
    assert activity_of(parse_socket_message('{"activity": 3, "word": "trust"}', 100)) == 3


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '"text"', "42", "null", '{"activity": 1'])
def test_parse_socket_message_refuses_what_is_not_a_json_object(text: str) -> None:
    assert refusal(parse_socket_message, text, 100) == (400, "That message was not understood.")


@pytest.mark.parametrize("activity", [None, "", "abc", "-1", "1.0", "٣", "²", "1" * 10])
def test_a_socket_message_without_an_activity_id_is_refused(activity: str | None) -> None:
    data: dict[str, Any] = {"choice": "1"} if activity is None else {"activity": activity, "choice": "1"}
    status, message = refusal(activity_of, parse_socket_message(json.dumps(data), 100))
    assert (status, message) == (422, "That form does not say which activity it answers.")


def test_activity_of_reads_the_first_activity_field() -> None:
    assert activity_of({"activity": ["5", "6"]}) == 5
