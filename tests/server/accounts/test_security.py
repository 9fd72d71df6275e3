"""Secrets: password hashes, bearer tokens, constant-time comparison, the setup link's token."""

from __future__ import annotations

import pytest

from server.accounts.security import (
    API_TOKEN_PREFIX,
    MIN_PASSWORD_LENGTH,
    hash_password,
    looks_like_token,
    new_token,
    password_problem,
    same,
    setup_token,
    setup_token_valid,
    verify_password,
)

KEY = "k" * 48


def test_a_password_hash_is_argon2id_and_verifies_only_the_password() -> None:
    hashed = hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery staple")
    assert not verify_password(hashed, "Correct horse battery staple")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("correct horse battery staple") != hash_password("correct horse battery staple")


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$broken"])
def test_verifying_against_a_broken_hash_is_false_not_an_error(stored: str) -> None:
    assert verify_password(stored, "anything") is False


def test_password_problem_says_what_is_wrong_with_a_new_password() -> None:
    assert password_problem("x" * (MIN_PASSWORD_LENGTH - 1)) == "Use at least 10 characters."
    assert password_problem("x" * 1025) == "Use at most 1024 characters."
    assert password_problem("x" * MIN_PASSWORD_LENGTH) is None


def test_new_tokens_are_long_random_and_look_like_tokens() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) == 43 and looks_like_token(token) for token in tokens)
    assert new_token(API_TOKEN_PREFIX).startswith("hsu_")


@pytest.mark.parametrize("value", [None, "", "me", "x" * 39, "x" * 101, "a" * 40 + "!", "a" * 40 + " ", "é" * 40])
def test_values_that_are_not_shaped_like_our_tokens_are_told_apart(value: str | None) -> None:
    assert not looks_like_token(value)


def test_same_compares_secrets() -> None:
    assert same("abc", "abc")
    assert not same("abc", "abd")
    assert not same("abc", "ab")


def test_a_setup_token_is_valid_only_for_the_key_that_made_it() -> None:
    token = setup_token(KEY)
    assert setup_token_valid(KEY, token)
    assert not setup_token_valid("another-" + KEY, token)
    assert not setup_token_valid(KEY, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert not setup_token_valid(KEY, "not-a-token")
