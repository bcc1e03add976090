"""LTI 1.3 against a simulated platform (tests/lms/test_lti_platform.py): OIDC login, launch
validation, role mapping, deep linking, AGS score passback, NRPS roster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from django.core.cache import caches
from django.test import Client
from jwt.algorithms import RSAAlgorithm

from grader.courses.models import Enrollment
from grader.lms.lti.models import LtiGradeTarget, LtiPlatform, LtiScorePost, LtiUser
from grader.lms.lti.services import lti_platform_generate_keys, role_from_lti
from tests.lms.conftest import graded_submission
from tests.lms.test_lti_platform import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    ISSUER,
    LTI,
    Platform,
    PlatformServer,
    rsa_key,
)

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER = [MEMBERSHIP + "Learner"]
INSTRUCTOR = [MEMBERSHIP + "Instructor"]
DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


@pytest.fixture
def lti(world: Any, settings: Any) -> Iterator[SimpleNamespace]:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "lti": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "lti"},
    }
    caches["lti"].clear()
    platform = Platform()
    with PlatformServer(platform):
        row = LtiPlatform(
            name="Test LMS",
            issuer=ISSUER,
            client_id=CLIENT_ID,
            deployment_ids=f"other\n{DEPLOYMENT_ID}\n",
            auth_login_url=ISSUER + "/auth",
            auth_token_url=platform.base_url + "/token",
            key_set_url=platform.base_url + "/jwks",
            course=world.course,
        )
        lti_platform_generate_keys(platform=row)
        row.save()
        platform.tool_public_pem = row.tool_public_key
        yield SimpleNamespace(platform=platform, row=row, world=world)
    caches["lti"].clear()


def login(client: Client) -> dict[str, str]:
    """Step 1, as the LMS starts it: the tool redirects to the platform's auth endpoint."""
    answer = client.get(
        "/lti/login/",
        {
            "iss": ISSUER,
            "login_hint": "user-hint",
            "client_id": CLIENT_ID,
            "target_link_uri": "http://testserver/lti/launch/",
            "lti_message_hint": "msg-hint",
        },
    )
    assert answer.status_code == 302, answer.content
    url = urlparse(answer["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == ISSUER + "/auth"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def launch(client: Client, lti: SimpleNamespace, claims: dict[str, Any], **sign: Any) -> Any:
    """Login, then the platform's form post of a signed id_token with the tool's nonce."""
    params = login(client)
    token = lti.platform.id_token({**claims, "nonce": params["nonce"]}, **sign)
    return client.post("/lti/launch/", {"id_token": token, "state": params["state"]})


def learner_claims(lti: SimpleNamespace, sub: str = "lms-user-42", **extra: Any) -> dict:
    return lti.platform.resource_claims(
        sub=sub,
        roles=LEARNER,
        nonce="",
        **{LTI + "custom": {"assignment_id": str(lti.world.assignment.pk)}, **extra},
    )


def test_login_redirects_to_the_platform_with_the_oidc_parameters(lti: Any) -> None:
    params = login(Client())
    assert params["client_id"] == CLIENT_ID
    assert params["login_hint"] == "user-hint"
    assert params["lti_message_hint"] == "msg-hint"
    assert params["redirect_uri"] == "http://testserver/lti/launch/"
    assert params["response_type"] == "id_token" and params["response_mode"] == "form_post"
    assert params["scope"] == "openid" and params["prompt"] == "none"
    assert params["state"] and len(params["nonce"]) >= 32


def test_login_for_an_unknown_issuer_is_refused(lti: Any) -> None:
    answer = Client().get("/lti/login/", {"iss": "https://evil.example", "login_hint": "x"})
    assert answer.status_code == 400
    assert b"LTI login refused" in answer.content


def test_learner_launch_logs_in_a_student_and_lands_on_the_assignment(lti: Any) -> None:
    client = Client()
    answer = launch(client, lti, learner_claims(lti))
    assert answer.status_code == 302
    assert answer["Location"] == f"/assignments/{lti.world.assignment.pk}/"
    mapping = LtiUser.objects.get(platform=lti.row, sub="lms-user-42")
    enrollment = Enrollment.objects.get(user=mapping.user, course=lti.world.course)
    assert enrollment.role == "student"
    assert mapping.user.email == "lms-user-42@lms.example.edu"
    assert not mapping.user.has_usable_password()
    assert client.get(answer["Location"]).status_code == 200  # logged in, enrolled
    target = LtiGradeTarget.objects.get(lti_user=mapping, assignment=lti.world.assignment)
    assert target.lineitem_url == lti.platform.base_url + "/lineitems/7/lineitem"
    # the platform's JWKS was really fetched to check the signature
    assert any(r["path"] == "/jwks" for r in lti.platform.requests)


def test_a_later_launch_without_custom_parameter_follows_the_stored_resource_link(
    lti: Any,
) -> None:
    launch(Client(), lti, learner_claims(lti))
    claims = learner_claims(lti, sub="lms-user-43")
    del claims[LTI + "custom"]
    answer = launch(Client(), lti, claims)
    assert answer["Location"] == f"/assignments/{lti.world.assignment.pk}/"


def test_instructor_launch_maps_to_teacher_and_lands_on_the_course(lti: Any) -> None:
    claims = lti.platform.resource_claims(sub="prof-1", roles=INSTRUCTOR, nonce="")
    answer = launch(Client(), lti, claims)
    assert answer.status_code == 302
    assert answer["Location"] == f"/courses/{lti.world.course.pk}/"
    user = LtiUser.objects.get(sub="prof-1").user
    assert Enrollment.objects.get(user=user, course=lti.world.course).role == "teacher"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([MEMBERSHIP + "Learner"], "student"),
        ([MEMBERSHIP + "Instructor"], "teacher"),
        (
            [
                "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
                MEMBERSHIP + "Instructor",
            ],
            "ta",
        ),
        (["Learner"], "student"),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"], None),
        ([MEMBERSHIP + "Mentor"], None),
        ([], None),
    ],
)
def test_lti_roles_map_to_course_roles(roles: list[str], expected: str | None) -> None:
    assert role_from_lti(roles) == expected


def test_a_launch_with_no_usable_role_is_refused(lti: Any) -> None:
    claims = lti.platform.resource_claims(sub="mentor", roles=[MEMBERSHIP + "Mentor"], nonce="")
    answer = launch(Client(), lti, claims)
    assert answer.status_code == 403
    assert not LtiUser.objects.filter(sub="mentor").exists()


def _refused(answer: Any, reason: str) -> None:
    assert answer.status_code == 403
    assert b"LTI launch refused" in answer.content
    assert reason.encode() in answer.content, answer.content
    assert "_auth_user_id" not in answer.wsgi_request.session


def test_a_launch_signed_by_another_key_is_refused(lti: Any) -> None:
    answer = launch(Client(), lti, learner_claims(lti), key=rsa_key())
    _refused(answer, "Signature verification failed")
    assert not LtiUser.objects.exists()


def test_a_launch_for_another_audience_is_refused(lti: Any) -> None:
    answer = launch(Client(), lti, learner_claims(lti, aud="some-other-tool"))
    _refused(answer, "Registration not found")


def test_a_launch_from_an_unknown_deployment_is_refused(lti: Any) -> None:
    answer = launch(Client(), lti, learner_claims(lti, **{LTI + "deployment_id": "rogue"}))
    _refused(answer, "Unable to find deployment")


def test_an_expired_id_token_is_refused(lti: Any) -> None:
    answer = launch(Client(), lti, learner_claims(lti, exp=1_000_000_000))
    _refused(answer, "expired")


def test_a_replayed_launch_is_refused(lti: Any) -> None:
    client = Client()
    params = login(client)
    token = lti.platform.id_token({**learner_claims(lti), "nonce": params["nonce"]})
    first = client.post("/lti/launch/", {"id_token": token, "state": params["state"]})
    assert first.status_code == 302
    again = Client()  # an attacker who captured the form post and the state cookie
    for name, morsel in client.cookies.items():
        if name.startswith("lti1p3"):
            again.cookies[name] = morsel.value
    _refused(
        again.post("/lti/launch/", {"id_token": token, "state": params["state"]}), "Invalid Nonce"
    )


def test_a_nonce_the_tool_never_issued_is_refused(lti: Any) -> None:
    client = Client()
    params = login(client)
    token = lti.platform.id_token({**learner_claims(lti), "nonce": "made-up"})
    _refused(
        client.post("/lti/launch/", {"id_token": token, "state": params["state"]}), "Invalid Nonce"
    )


def test_a_launch_without_the_state_cookie_is_refused(lti: Any) -> None:
    params = login(Client())
    token = lti.platform.id_token({**learner_claims(lti), "nonce": params["nonce"]})
    _refused(
        Client().post("/lti/launch/", {"id_token": token, "state": params["state"]}),
        "State not found",
    )


def test_users_are_matched_by_sub_never_by_email(lti: Any) -> None:
    alice = lti.world.alice
    alice.email = "alice@lms.example.edu"
    alice.save()
    launch(Client(), lti, learner_claims(lti, sub="a", email="alice@lms.example.edu"))
    launch(Client(), lti, learner_claims(lti, sub="b", email="alice@lms.example.edu"))
    users = {m.sub: m.user_id for m in LtiUser.objects.all()}
    assert len(set(users.values())) == 2 and alice.pk not in users.values()
    launch(Client(), lti, learner_claims(lti, sub="a"))
    assert LtiUser.objects.get(sub="a").user_id == users["a"]  # the same user comes back


# --- deep linking ----------------------------------------------------------------------------


def deep_link_claims(lti: Any, roles: list[str]) -> dict[str, Any]:
    claims = lti.platform.resource_claims(sub="prof-1", roles=roles, nonce="")
    del claims[LTI + "resource_link"]
    claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
    claims[DEEP_LINKING] = {
        "deep_link_return_url": ISSUER + "/deep_links",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "data": "opaque-platform-data",
    }
    return claims


def test_deep_linking_returns_a_resource_link_the_platform_can_verify(lti: Any) -> None:
    client = Client()
    page = launch(client, lti, deep_link_claims(lti, INSTRUCTOR))
    assert page.status_code == 200
    assert lti.world.assignment.title in page.content.decode()
    answer = client.post(
        "/lti/deep-link/",
        {"launch_id": page.context["launch_id"], "assignment": lti.world.assignment.pk},
    )
    assert answer.status_code == 200
    assert answer.context["return_url"] == ISSUER + "/deep_links"
    token = answer.context["jwt"]
    assert token in answer.content.decode()
    # The platform verifies the response with the tool's JWKS, fetched from /lti/jwks/.
    jwks = client.get("/lti/jwks/").json()
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    body = jwt.decode(
        token,
        RSAAlgorithm.from_jwk(json.dumps(jwk)),  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience=ISSUER,
        issuer=CLIENT_ID,
    )
    assert body[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert body[LTI + "deployment_id"] == DEPLOYMENT_ID
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    (item,) = body["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == "http://testserver/lti/launch/"
    assert item["custom"] == {"assignment_id": str(lti.world.assignment.pk)}
    assert item["lineItem"]["scoreMaximum"] == 100


def test_a_learner_cannot_deep_link(lti: Any) -> None:
    answer = launch(Client(), lti, deep_link_claims(lti, LEARNER))
    assert answer.status_code == 403


def test_a_deep_link_response_needs_a_valid_launch_id(lti: Any) -> None:
    answer = Client().post(
        "/lti/deep-link/",
        {"launch_id": "lti1p3-launch-nope", "assignment": lti.world.assignment.pk},
    )
    assert answer.status_code == 400


# --- AGS score passback ----------------------------------------------------------------------


def test_grading_posts_the_score_to_the_platform_ags_endpoint(
    lti: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from grader.lms.lti import tasks
    from grader.lms.lti.passback import lti_submission_graded

    launch(Client(), lti, learner_claims(lti))
    student = LtiUser.objects.get(sub="lms-user-42").user
    submission = graded_submission(lti.world, student)
    type(submission).objects.filter(pk=submission.pk).update(score=2, max_score=3)
    monkeypatch.setattr(tasks.post_score_task, "delay", tasks.post_score_task)  # run inline
    with django_capture_on_commit_callbacks(execute=True):
        lti_submission_graded(submission.pk)

    post = LtiScorePost.objects.get(submission=submission)
    assert post.status == "sent" and post.attempts == 1
    (token,) = [r for r in lti.platform.requests if r["path"] == "/token"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in token["form"]["scope"]
    (score,) = [r for r in lti.platform.requests if r["path"].endswith("/scores")]
    assert score["path"] == "/lineitems/7/lineitem/scores"
    assert score["content_type"] == "application/vnd.ims.lis.v1.score+json"
    body = score["json"]
    assert body["userId"] == "lms-user-42"
    assert (body["scoreGiven"], body["scoreMaximum"]) == (2, 3)
    assert body["activityProgress"] == "Completed"
    assert body["gradingProgress"] == "FullyGraded"
    assert body["timestamp"]


def test_a_failed_score_post_is_retried_then_sent(lti: Any, settings: Any) -> None:
    from grader.lms.lti.passback import lti_score_post_attempt, lti_submission_graded

    settings.LTI_SCORE_BACKOFF_SECONDS = 30
    launch(Client(), lti, learner_claims(lti))
    submission = graded_submission(lti.world, LtiUser.objects.get(sub="lms-user-42").user)
    lti_submission_graded(submission.pk)
    post = LtiScorePost.objects.get(submission=submission)
    lti.platform.fail_scores = 1
    assert lti_score_post_attempt(post_id=post.pk) == 30  # first back-off step
    post.refresh_from_db()
    assert post.status == "pending" and "503" in post.last_error
    # A second copy of the message, at once: the next try is not due, nothing is posted.
    assert lti_score_post_attempt(post_id=post.pk) is None
    post.refresh_from_db()
    assert post.status == "pending" and post.attempts == 1
    _countdown_passed(post)
    assert lti_score_post_attempt(post_id=post.pk) is None
    post.refresh_from_db()
    assert post.status == "sent" and post.attempts == 2


def _countdown_passed(post: LtiScorePost) -> None:
    """The retry's countdown has elapsed (what the broker's message waits for)."""
    from django.utils import timezone

    LtiScorePost.objects.filter(pk=post.pk).update(next_attempt_at=timezone.now())


def test_a_score_post_gives_up_after_the_last_try(lti: Any, settings: Any) -> None:
    from grader.lms.lti.passback import lti_score_post_attempt, lti_submission_graded

    settings.LTI_SCORE_MAX_ATTEMPTS = 2
    launch(Client(), lti, learner_claims(lti))
    submission = graded_submission(lti.world, LtiUser.objects.get(sub="lms-user-42").user)
    lti_submission_graded(submission.pk)
    post = LtiScorePost.objects.get(submission=submission)
    lti.platform.fail_scores = 5
    assert lti_score_post_attempt(post_id=post.pk) is not None
    _countdown_passed(post)
    assert lti_score_post_attempt(post_id=post.pk) is None
    post.refresh_from_db()
    assert post.status == "failed" and post.attempts == 2


def test_no_score_is_posted_for_a_student_who_never_launched(lti: Any) -> None:
    from grader.lms.lti.passback import lti_submission_graded

    submission = graded_submission(lti.world, lti.world.alice)
    lti_submission_graded(submission.pk)
    assert not LtiScorePost.objects.exists()


# --- Names and Roles -------------------------------------------------------------------------


def test_staff_import_the_roster_through_names_and_roles(lti: Any) -> None:
    lti.platform.members = [
        {
            "user_id": "m-1",
            "roles": [MEMBERSHIP + "Learner"],
            "status": "Active",
            "given_name": "Grace",
            "email": "grace@lms.example.edu",
        },
        {
            "user_id": "m-2",
            "roles": [
                "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
            ],
            "status": "Active",
        },
        {"user_id": "m-3", "roles": [MEMBERSHIP + "Learner"], "status": "Inactive"},
    ]
    teacher = Client()
    launch(teacher, lti, lti.platform.resource_claims(sub="prof-1", roles=INSTRUCTOR, nonce=""))
    student = Client()
    student.force_login(lti.world.alice)
    url = f"/lti/courses/{lti.world.course.pk}/roster-sync/"
    assert student.post(url).status_code == 403
    assert teacher.post(url).status_code == 302
    roles = {
        m.sub: Enrollment.objects.get(user=m.user, course=lti.world.course).role
        for m in LtiUser.objects.filter(sub__startswith="m-")
    }
    assert roles == {"m-1": "student", "m-2": "ta"}
    assert LtiUser.objects.get(sub="m-1").user.first_name == "Grace"
