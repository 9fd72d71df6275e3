"""OpenID Connect: signing in at a provider (discovery, the authorization code flow with PKCE, state and nonce) and
checking the ID token it hands back (signature against the provider's published keys, iss, aud, exp, iat, nonce).

Authlib builds the authorization request and redeems the code (PKCE S256); joserfc, Authlib's JOSE library, verifies
the token. Who the signed-in person may be on this server is decided in server/accounts/identities.py.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from activities.i18n import _
from server.config import OidcProvider, Settings

log = logging.getLogger("handsup")
# Algorithms an ID token may be signed with (never "none", never a shared-secret HMAC with the client secret).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
MAX_DOCUMENT_BYTES = 256 * 1024  # a discovery document or key set larger than this is refused


class ProviderUnreachable(Exception):
    """The provider did not answer, or answered nonsense (its discovery document, keys or token endpoint)."""


class SignInFailed(Exception):
    """The provider's answer does not prove who signed in: the message says why, for the person signing in."""


class TokenRefused(SignInFailed):
    """The ID token is not one this server accepts (signature, issuer, audience, times, nonce)."""


@dataclass
class Pending:
    """What this browser keeps (in its signed session cookie) between leaving for the provider and coming back."""

    provider: str
    state: str
    nonce: str
    verifier: str
    next: str
    started: float

    @classmethod
    def start(cls, provider: str, next: str) -> Pending:
        token = secrets.token_urlsafe
        return cls(provider, token(32), token(32), token(48), next, time.time())

    def as_session(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_session(cls, value: object) -> Pending | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(**value)
        except TypeError:
            return None


KeyFetcher = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class IdTokenChecker:
    """Verifies ID tokens of one issuer for one client. Keys come from `fetch_keys` (the provider's jwks_uri) and are
    kept; a token signed with a key id not among them fetches them again (the provider rotated its keys), at most
    once per `refetch_seconds`, so a flood of made-up key ids cannot make us hammer the provider."""

    issuer: str
    client_id: str
    fetch_keys: KeyFetcher
    leeway: int = 120
    refetch_seconds: float = 10.0
    clock: Callable[[], float] = time.time
    _keys: KeySet | None = field(default=None, init=False)
    _fetched: float = field(default=float("-inf"), init=False)  # the last refetch for an unknown key id

    async def check(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The token's claims when it is genuine, meant for us, current and answers our nonce; else TokenRefused."""
        try:
            header = extract_compact(id_token.encode()).protected
        except (JoseError, ValueError) as problem:
            raise TokenRefused(_("The provider's ID token cannot be read.")) from problem
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefused(_("The provider's ID token is signed in a way this server does not accept."))
        keys = await self._keys_for(header.get("kid"))
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError) as problem:
            raise TokenRefused(_("The provider's ID token has a signature that does not check out.")) from problem
        self._check_claims(token.claims, nonce)
        return dict(token.claims)

    async def _keys_for(self, kid: object) -> KeySet:
        unknown = self._keys is not None and kid is not None and not _has_kid(self._keys, kid)
        if self._keys is None or (unknown and self._may_refetch()):
            if unknown:
                self._fetched = self.clock()
            try:
                self._keys = KeySet.import_key_set(await self.fetch_keys())  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as problem:
                raise ProviderUnreachable(f"the provider's keys cannot be read: {problem}") from problem
        if kid is not None and not _has_kid(self._keys, kid):
            raise TokenRefused(_("The provider's ID token is signed with a key the provider does not publish."))
        return self._keys

    def _may_refetch(self) -> bool:
        return self.clock() - self._fetched >= self.refetch_seconds

    def _check_claims(self, claims: dict[str, Any], nonce: str) -> None:
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise TokenRefused(_("The ID token was issued by another provider than the one asked."))
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != self.client_id):
            raise TokenRefused(_("The ID token was issued for another application than this server."))
        expires, issued = claims.get("exp"), claims.get("iat")
        if not isinstance(expires, int | float) or not isinstance(issued, int | float):
            raise TokenRefused(_("The ID token does not say when it was issued and when it expires."))
        if expires + self.leeway < now:
            raise TokenRefused(_("The ID token has expired. Sign in again."))
        if issued - self.leeway > now:
            raise TokenRefused(_("The ID token was issued in the future: the provider's clock or ours is wrong."))
        if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 255:
            raise TokenRefused(_("The ID token does not say who signed in."))
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
            raise TokenRefused(_("The ID token does not belong to this sign-in (its nonce differs)."))


def _has_kid(keys: KeySet, kid: object) -> bool:
    return any(key.kid == kid for key in keys.keys)


class Provider:
    """One configured provider: its discovery document and keys (kept for a while), the way there and back."""

    def __init__(self, config: OidcProvider, settings: Settings) -> None:
        self.config = config
        self._timeout = settings.oidc_timeout_seconds
        self._cache_seconds = settings.oidc_cache_seconds
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = float("-inf")
        self.checker = IdTokenChecker(
            issuer=config.issuer,
            client_id=config.client_id,
            fetch_keys=self._fetch_keys,
            leeway=settings.oidc_clock_skew_seconds,
            refetch_seconds=settings.oidc_keys_refetch_seconds,
        )

    async def authorization_url(self, pending: Pending, redirect_uri: str) -> str:
        """Where the browser goes to sign in: the provider's authorization endpoint with our state, nonce and PKCE
        challenge (S256)."""
        metadata = await self.metadata()
        async with self._client(metadata, redirect_uri) as client:
            url, _state = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=pending.state,
                nonce=pending.nonce,
                code_verifier=pending.verifier,
            )
        return str(url)

    async def finish(self, pending: Pending, params: dict[str, str], redirect_uri: str) -> dict[str, Any]:
        """The verified claims of the person who signed in, from the provider's answer to the callback."""
        if not secrets.compare_digest(params.get("state", ""), pending.state):
            raise SignInFailed(_("The answer from the provider does not belong to the sign-in this browser started."))
        if params.get("error"):
            if params["error"] == "access_denied":
                raise SignInFailed(_("The sign-in was cancelled at the provider."))
            raise SignInFailed(_("The provider refused the sign-in ({error}).").format(error=params["error"][:80]))
        if params.get("iss") and params["iss"] != self.config.issuer:  # RFC 9207: the answer names its issuer
            raise SignInFailed(_("The answer came from another provider than the one asked."))
        code = params.get("code", "")
        if not code:
            raise SignInFailed(_("The provider's answer holds no sign-in code."))
        metadata = await self.metadata()
        try:
            async with self._client(metadata, redirect_uri) as client:
                tokens = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.verifier,
                )
        except httpx.HTTPError as problem:
            raise ProviderUnreachable(f"token endpoint: {problem!r}") from problem
        except AuthlibBaseError as problem:
            log.info("sign-in at %s: the code was refused: %s", self.config.name, problem)
            raise SignInFailed(
                _("The provider did not accept the sign-in code: it may have expired or been used already.")
            ) from problem
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed(_("The provider did not send an ID token."))
        claims = await self.checker.check(id_token, pending.nonce)
        if "email" not in claims and isinstance(tokens.get("access_token"), str):
            claims.update(await self._userinfo(metadata, tokens["access_token"], claims["sub"]))
        return claims

    async def _userinfo(self, metadata: dict[str, Any], access_token: str, subject: str) -> dict[str, Any]:
        """The email claims from the UserInfo endpoint, for providers that keep them out of the ID token (OpenID
        Connect Core 5.4); only when the answer is about the same subject (5.3.2)."""
        endpoint = metadata.get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        info = await self._get_json(endpoint, {"Authorization": f"Bearer {access_token}"})
        if info.get("sub") != subject:
            raise TokenRefused(_("The provider's user information is about someone else than its ID token."))
        return {name: info[name] for name in ("email", "email_verified") if name in info}

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (/.well-known/openid-configuration), checked and kept."""
        if self._metadata is not None and time.monotonic() - self._metadata_at < self._cache_seconds:
            return self._metadata
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._get_json(url)
        if document.get("issuer") != self.config.issuer:
            raise ProviderUnreachable(f"{url} names the issuer {document.get('issuer')!r}, not {self.config.issuer!r}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise ProviderUnreachable(f"{url} has no {name}")
        self._metadata, self._metadata_at = document, time.monotonic()
        return document

    async def _fetch_keys(self) -> dict[str, Any]:
        return await self._get_json(str((await self.metadata())["jwks_uri"]))

    async def _get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as http:
                answer = await http.get(url, headers={"Accept": "application/json", **(headers or {})})
            if answer.status_code != 200 or len(answer.content) > MAX_DOCUMENT_BYTES:
                raise ProviderUnreachable(f"{url} answered {answer.status_code} ({len(answer.content)} bytes)")
            document = answer.json()
        except (httpx.HTTPError, ValueError) as problem:
            raise ProviderUnreachable(f"{url}: {problem!r}") from problem
        if not isinstance(document, dict):
            raise ProviderUnreachable(f"{url} is not a JSON object")
        return document

    def _client(self, metadata: dict[str, Any], redirect_uri: str) -> AsyncOAuth2Client:
        # The client secret goes in the Authorization header unless the provider says it takes it only in the body
        # (Microsoft Entra lists client_secret_post alone); no list means the header (OpenID Connect Discovery 3).
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        return AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=self.config.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=method,
            timeout=self._timeout,
        )


class Providers:
    """The configured providers by name (one `Provider` each, kept for the server's life with its caches)."""

    def __init__(self, settings: Settings) -> None:
        self._by_name = {config.name: Provider(config, settings) for config in settings.oidc_providers}

    def get(self, name: str) -> Provider | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._by_name.values())
