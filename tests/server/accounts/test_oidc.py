"""ID tokens checked as server/accounts/oidc.py checks them: real keys, really signed tokens, the provider's key set
served by a function that can rotate it. Nothing of Authlib or joserfc is replaced."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from server.accounts.oidc import IdTokenChecker, ProviderUnreachable, TokenRefused

ISSUER = "https://id.district.example.org"
CLIENT = "handsup"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_800_000_000.0


class Publisher:
    """A provider's jwks_uri: the keys it publishes now, and how often it was asked."""

    def __init__(self, *keys: RSAKey | ECKey) -> None:
        self.keys = list(keys)
        self.fetched = 0

    async def __call__(self) -> dict[str, Any]:
        self.fetched += 1
        return KeySet(self.keys).as_dict(private=False)


def signed(key: RSAKey | ECKey, alg: str = "RS256", **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT,
        "exp": int(NOW) + 300,
        "iat": int(NOW),
        "nonce": NONCE,
        "email": "ada@district.example.org",
        "email_verified": True,
    }
    claims.update(overrides)
    return jwt.encode({"alg": alg, "kid": key.kid}, {k: v for k, v in claims.items() if v is not None}, key)


def checker(publisher: Publisher, *, clock: float = NOW, refetch_seconds: float = 10.0) -> IdTokenChecker:
    return IdTokenChecker(
        issuer=ISSUER, client_id=CLIENT, fetch_keys=publisher, leeway=120, refetch_seconds=refetch_seconds,
        clock=lambda: clock,
    )  # fmt: skip


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "2026-11"})


def check(token: str, checking: IdTokenChecker, nonce: str = NONCE) -> dict[str, Any]:
    return asyncio.run(checking.check(token, nonce))


def test_a_genuine_token_gives_its_claims(key: RSAKey) -> None:
    claims = check(signed(key), checker(Publisher(key)))
    assert claims["sub"] == "248289761001" and claims["email"] == "ada@district.example.org"


def test_an_elliptic_curve_key_works_as_well() -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    assert check(signed(ec, "ES256"), checker(Publisher(ec)))["iss"] == ISSUER


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"aud": "another-app"}, "issued for another application"),
        ({"aud": [CLIENT, "another-app"]}, "issued for another application"),  # several audiences need azp = us
        ({"iss": "https://id.elsewhere.example.org"}, "issued by another provider"),
        ({"nonce": "a-nonce-of-another-sign-in"}, "its nonce differs"),
        ({"nonce": None}, "its nonce differs"),
        ({"exp": int(NOW) - 121}, "has expired"),
        ({"iat": int(NOW) + 121}, "issued in the future"),
        ({"exp": None}, "does not say when"),
        ({"sub": ""}, "does not say who"),
    ],
)
def test_a_token_that_is_not_for_this_sign_in_is_refused(key: RSAKey, overrides: dict[str, Any], refusal: str) -> None:
    with pytest.raises(TokenRefused, match=refusal):
        check(signed(key, **overrides), checker(Publisher(key)))


def test_several_audiences_pass_when_we_are_the_authorized_party(key: RSAKey) -> None:
    token = signed(key, aud=[CLIENT, "another-app"], azp=CLIENT)
    assert check(token, checker(Publisher(key)))["azp"] == CLIENT


def test_clocks_may_differ_by_the_allowed_skew(key: RSAKey) -> None:
    token = signed(key, exp=int(NOW) - 100, iat=int(NOW) + 100)  # within the 120 s leeway both ways
    assert check(token, checker(Publisher(key)))["sub"]


def test_a_token_signed_by_someone_else_is_refused(key: RSAKey) -> None:
    forger = RSAKey.generate_key(2048, parameters={"kid": key.kid})  # the same key id, another key
    with pytest.raises(TokenRefused, match="signature"):
        check(signed(forger), checker(Publisher(key)))


def test_unsigned_and_shared_secret_tokens_are_refused(key: RSAKey) -> None:
    secret = OctKey.import_key("the client secret is known to the client, not proof of the provider" * 2)
    hmac = jwt.encode({"alg": "HS256", "kid": key.kid}, {"iss": ISSUER, "aud": CLIENT, "nonce": NONCE}, secret)
    with pytest.raises(TokenRefused, match="signed in a way"):
        check(hmac, checker(Publisher(key)))
    header, payload, _signature = signed(key).split(".")
    none = "eyJhbGciOiJub25lIn0." + payload + "."  # {"alg":"none"}
    with pytest.raises(TokenRefused, match="signed in a way"):
        check(none, checker(Publisher(key)))


def test_a_rotated_key_is_fetched_when_a_token_names_it(key: RSAKey) -> None:
    publisher = Publisher(key)
    checking = checker(publisher)
    assert check(signed(key), checking)["sub"]
    assert publisher.fetched == 1
    assert check(signed(key), checking)["sub"]
    assert publisher.fetched == 1  # kept between sign-ins

    rotated = RSAKey.generate_key(2048, parameters={"kid": "2026-12"})
    publisher.keys = [rotated]  # the provider rotated: the old key is gone, a new one signs
    assert check(signed(rotated), checking)["sub"]
    assert publisher.fetched == 2


def test_an_unknown_key_id_refetches_at_most_once_in_a_while(key: RSAKey) -> None:
    publisher = Publisher(key)
    checking = checker(publisher)
    check(signed(key), checking)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "nobody-publishes-this"})
    with pytest.raises(TokenRefused, match="key the provider does not publish"):
        check(signed(stranger, "ES256"), checking)
    with pytest.raises(TokenRefused, match="key the provider does not publish"):
        check(signed(stranger, "ES256"), checking)
    assert publisher.fetched == 2  # one refetch for the first unknown key id, none for the second so soon


def test_keys_that_cannot_be_read_mean_the_provider_is_unreachable() -> None:
    async def broken() -> dict[str, Any]:
        return {"keys": [{"kty": "RSA", "kid": "x"}]}  # an RSA key without its numbers

    checking = IdTokenChecker(issuer=ISSUER, client_id=CLIENT, fetch_keys=broken, clock=lambda: NOW)
    with pytest.raises(ProviderUnreachable):
        check(signed(RSAKey.generate_key(2048, parameters={"kid": "x"})), checking)


def test_garbage_is_not_a_token(key: RSAKey) -> None:
    with pytest.raises(TokenRefused, match="cannot be read"):
        check("not.a.token", checker(Publisher(key)))
