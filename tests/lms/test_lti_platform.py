"""A simulated LTI 1.3 platform for the tests: real RSA keys, RS256 id_tokens, and a local HTTP
server (a thread on 127.0.0.1) serving the platform's JWKS, OAuth2 token endpoint, AGS score
endpoint and NRPS memberships. No network beyond the loopback."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://lms.example.edu"
CLIENT_ID = "grader-client-1"
DEPLOYMENT_ID = "deployment-1"
KID = "platform-key-1"
ACCESS_TOKEN = "platform-access-token"  # noqa: S105 (a test value)
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Platform:
    key: rsa.RSAPrivateKey = field(default_factory=rsa_key)
    base_url: str = ""
    tool_public_pem: str = ""  # the tool's key, as registered on the platform
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_scores: int = 0  # answer this many score posts with 503 first
    score_delay: float = 0.0  # seconds each score post takes to answer (a slow LMS; races)
    members: list[dict[str, Any]] = field(default_factory=list)
    # The line item container (AGS): line 7 is the launch's own; the tool may add more.
    lineitems: list[dict[str, Any]] = field(default_factory=list)
    # Per (line item URL, user): the score the gradebook shows, kept as AGS says a platform
    # must: an update whose timestamp is older than the one on record is ignored.
    gradebook: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def scores(self) -> list[dict[str, Any]]:
        """The score bodies the tool posted, in the order they arrived."""
        return [r["json"] for r in self.requests if r["path"].endswith("/scores") and "json" in r]

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def id_token(self, claims: dict[str, Any], *, key: Any = None, kid: str = KID) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "version": "1.3.0",
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid})

    def resource_claims(self, *, sub: str, roles: list[str], nonce: str, **extra: Any) -> dict:
        return {
            "sub": sub,
            "nonce": nonce,
            "given_name": "Ada",
            "family_name": "Lovelace",
            "email": f"{sub}@lms.example.edu",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "roles": roles,
            LTI + "target_link_uri": "http://testserver/lti/launch/",
            LTI + "resource_link": {"id": "link-1", "title": "Homework"},
            LTI + "context": {"id": "lms-course-1", "title": "Intro on the LMS"},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": self.base_url + "/lineitems",
                "lineitem": self.base_url + "/lineitems/7/lineitem",
            },
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.base_url + "/memberships",
                "service_versions": ["2.0"],
            },
            **extra,
        }


def _handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            return self.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"

        def do_GET(self) -> None:  # noqa: N802
            platform.requests.append({"method": "GET", "path": self.path})
            if self.path == "/jwks":
                self._send(200, platform.jwks())
            elif self.path == "/lineitems" and self._authorized():
                container = "application/vnd.ims.lis.v2.lineitemcontainer+json"
                self._send(200, platform.lineitems, container)
            elif self.path.startswith("/memberships") and self._authorized():
                self._send(
                    200,
                    {"id": "m", "context": {"id": "lms-course-1"}, "members": platform.members},
                    "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
                )
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record = {
                "method": "POST",
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "authorization": self.headers.get("Authorization"),
                "body": raw.decode(),
            }
            platform.requests.append(record)
            if self.path == "/token":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                try:  # the tool authenticates with a JWT signed by its registered key
                    jwt.decode(
                        form["client_assertion"],
                        platform.tool_public_pem,
                        algorithms=["RS256"],
                        audience=platform.base_url + "/token",
                        issuer=CLIENT_ID,
                    )
                except (KeyError, jwt.InvalidTokenError) as exc:
                    self._send(401, {"error": "invalid_client", "detail": str(exc)})
                    return
                record["form"] = form
                self._send(
                    200,
                    {
                        "access_token": ACCESS_TOKEN,
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "scope": form.get("scope", ""),
                    },
                )
            elif self.path == "/lineitems" and self._authorized():
                number = 100 + len(platform.lineitems)
                item = {**json.loads(raw), "id": f"{platform.base_url}/lineitems/{number}/lineitem"}
                platform.lineitems.append(item)
                self._send(201, item, "application/vnd.ims.lis.v2.lineitem+json")
            elif self.path.startswith("/lineitems/") and self.path.endswith("/lineitem/scores"):
                lineitem = platform.base_url + self.path.removesuffix("/scores")
                known = lineitem.endswith("/7/lineitem") or any(
                    i["id"] == lineitem for i in platform.lineitems
                )
                if not self._authorized():
                    self._send(401, {"error": "no token"})
                elif not known:
                    self._send(404, {"error": "no such line item"})
                elif platform.fail_scores > 0:
                    platform.fail_scores -= 1
                    self._send(503, {"error": "try later"})
                else:
                    time.sleep(platform.score_delay)
                    body = record["json"] = json.loads(raw)
                    key = (lineitem, body["userId"])
                    on_record = platform.gradebook.get(key)
                    if on_record is None or on_record["timestamp"] <= body["timestamp"]:
                        platform.gradebook[key] = body
                    self._send(200, {})
            else:
                self._send(404, {"error": "not found"})

    return Handler


class PlatformServer:
    def __init__(self, platform: Platform) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(platform))
        platform.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PlatformServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def new_nonce() -> str:
    return uuid.uuid4().hex


# The simulated platform is itself checked, so a test of the tool cannot pass against a platform
# that would accept anything.


def test_simulated_platform_id_token_verifies_only_with_its_own_jwks() -> None:
    platform = Platform()
    token = platform.id_token({"sub": "u1"})
    key = RSAAlgorithm.from_jwk(json.dumps(platform.jwks()["keys"][0]))
    assert jwt.decode(token, key, algorithms=["RS256"], audience=CLIENT_ID)["sub"] == "u1"  # type: ignore[arg-type]
    forged = platform.id_token({"sub": "u1"}, key=rsa_key())
    try:
        jwt.decode(forged, key, algorithms=["RS256"], audience=CLIENT_ID)  # type: ignore[arg-type]
    except jwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("a token signed by another key verified")


def test_simulated_token_endpoint_refuses_an_unsigned_client() -> None:
    import requests

    platform = Platform(
        tool_public_pem=rsa_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with PlatformServer(platform):
        bogus = jwt.encode({"iss": CLIENT_ID}, pem(rsa_key()), algorithm="RS256")
        answer = requests.post(
            platform.base_url + "/token", data={"client_assertion": bogus}, timeout=5
        )
    assert answer.status_code == 401
