"""pylti1p3 wiring: a database-backed tool configuration, a session service whose nonces are
single-use, and factories for the login and launch objects. Everything pylti1p3-specific that
the views and services need lives here."""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from django.http import HttpRequest
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.contrib.django.session import DjangoSessionService
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.service_connector import REQUESTS_USER_AGENT
from pylti1p3.tool_config import ToolConfAbstract

from grader.lms.lti.models import LtiPlatform

CACHE_ALIAS = "lti"
JWKS_CACHE_SECONDS = 3600  # the platform's public keys: a rotated key is picked up within this


def registration_for(platform: LtiPlatform) -> Registration:
    reg = Registration()
    reg.set_issuer(platform.issuer)
    reg.set_client_id(platform.client_id)
    reg.set_auth_login_url(platform.auth_login_url)
    reg.set_auth_token_url(platform.auth_token_url)
    if platform.auth_audience:
        reg.set_auth_audience(platform.auth_audience)
    reg.set_key_set_url(platform.key_set_url or None)
    reg.set_key_set(platform.key_set or None)
    reg.set_tool_private_key(platform.tool_private_key)
    if platform.tool_public_key:
        reg.set_tool_public_key(platform.tool_public_key)
    return reg


class DbToolConf(ToolConfAbstract[Any]):
    """Registrations from LtiPlatform rows, always in pylti1p3's "many client ids per issuer"
    mode, so a launch is matched on (iss, aud): a token for another client id finds nothing."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def platform(self, iss: str, client_id: str | None) -> LtiPlatform | None:
        rows = LtiPlatform.objects.filter(issuer=iss, enabled=True)
        if client_id:
            return rows.filter(client_id=client_id).first()
        # Login initiation may omit client_id; it is then unambiguous only with one registration.
        found = list(rows[:2])
        return found[0] if len(found) == 1 else None

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("registrations are looked up by issuer and client id")

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration:
        platform = self.platform(iss, client_id)
        return registration_for(platform) if platform else None  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        raise NotImplementedError("deployments are looked up by issuer and client id")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        platform = self.platform(iss, client_id)
        if platform is None or deployment_id not in platform.deployment_id_list:
            return None
        return Deployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> Any:
        keys = []
        for pem in LtiPlatform.objects.filter(enabled=True).values_list(
            "tool_public_key", flat=True
        ):
            if pem:
                jwk = Registration.get_jwk(pem)
                if jwk not in keys:
                    keys.append(jwk)
        return {"keys": keys}


class SingleUseNonceSessionService(DjangoSessionService):
    """pylti1p3 only checks that a nonce was issued; deleting it on use makes a replayed
    id_token fail. The cache's delete() is atomic and says whether the key existed, so two
    concurrent replays cannot both succeed."""

    def check_nonce(self, nonce: str) -> bool:
        storage: Any = self.data_storage
        key = storage._prepare_key(self._get_key("nonce", nonce))
        return bool(storage._get_cache().delete(key))


class _TimeoutSession(requests.Session):
    """requests has no default timeout: a hung platform would hold a worker forever."""

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", settings.LTI_HTTP_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


def http_session() -> requests.Session:
    """The session pylti1p3 uses for JWKS, token and service calls."""
    session = _TimeoutSession()
    session.headers["User-Agent"] = REQUESTS_USER_AGENT
    return session


def _storage() -> DjangoCacheDataStorage:
    return DjangoCacheDataStorage(cache_name=CACHE_ALIAS)


def oidc_login(request: HttpRequest) -> DjangoOIDCLogin:
    return DjangoOIDCLogin(
        request,
        DbToolConf(),
        session_service=SingleUseNonceSessionService(DjangoRequest(request)),
        launch_data_storage=_storage(),
    )


def message_launch(request: HttpRequest) -> DjangoMessageLaunch:
    storage = _storage()
    launch = DjangoMessageLaunch(
        request,
        DbToolConf(),
        session_service=SingleUseNonceSessionService(DjangoRequest(request)),
        launch_data_storage=storage,
        requests_session=http_session(),
    )
    launch.set_public_key_caching(storage, cache_lifetime=JWKS_CACHE_SECONDS)
    return launch


def message_launch_from_cache(request: HttpRequest, launch_id: str) -> DjangoMessageLaunch:
    return DjangoMessageLaunch.from_cache(  # type: ignore[return-value]
        launch_id,
        request,
        DbToolConf(),
        session_service=SingleUseNonceSessionService(DjangoRequest(request)),
        launch_data_storage=_storage(),
        requests_session=http_session(),
    )
