"""Writes for LTI 1.3: users, enrollments and links from a validated launch; NRPS roster
import; tool keys. AGS score passback is grader.lms.lti.passback.

Trust: everything here runs on launch data pylti1p3 has validated (signature against the
platform's JWKS, nonce, state, registration by issuer and client id, deployment). Users are
matched by (platform, sub) only; e-mail and names are copied for display, never used to match.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from grader.courses.models import Assignment, Course, Enrollment
from grader.courses.services import enrollment_set
from grader.lib.errors import Forbidden
from grader.lms.lti.models import (
    LtiContext,
    LtiGradeTarget,
    LtiPlatform,
    LtiResourceLink,
    LtiUser,
)
from grader.lms.lti.tool import http_session, registration_for

logger = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
CUSTOM_ASSIGNMENT = "assignment_id"  # the custom parameter a resource link names its assignment by


class LtiLaunchError(Forbidden):
    """A validated launch we still refuse (no usable role, unknown assignment...): a typed
    service error (403) like the others, refused by the launch view in one place."""

    code = "lti_launch_refused"


# --- roles ---------------------------------------------------------------------------------


def role_from_lti(roles: list[str]) -> str | None:
    """The course role for a launch's roles claim, or None. Only context (membership) roles and
    the short forms count: an institution-wide "Instructor" is not a teacher of this course.
    TeachingAssistant is a sub-role of Instructor (`membership/Instructor#TeachingAssistant`),
    so it is checked first."""
    names = set()
    for uri in roles:
        if uri.startswith("http://purl.imsglobal.org/vocab/lis/v2/membership"):
            names.add(uri.rsplit("#", 1)[-1] if "#" in uri else uri.rsplit("/", 1)[-1])
        elif "/" not in uri and "#" not in uri:
            names.add(uri)  # short form, allowed by the spec for context roles
    if "TeachingAssistant" in names:
        return Enrollment.Role.TA
    if names & {"Instructor", "Administrator", "ContentDeveloper"}:
        return Enrollment.Role.TEACHER
    if "Learner" in names:
        return Enrollment.Role.STUDENT
    return None


# --- users and links -----------------------------------------------------------------------


def _username(platform: LtiPlatform, sub: str) -> str:
    return f"lti{platform.pk}-" + hashlib.sha256(sub.encode()).hexdigest()[:20]


def lti_user_get_or_create(*, platform: LtiPlatform, sub: str, claims: dict[str, Any]) -> Any:
    """The local user for (platform, sub); created on first sight with an unusable password.
    Display fields are refreshed from the platform on every launch."""
    mapping = LtiUser.objects.select_related("user").filter(platform=platform, sub=sub).first()
    if mapping is None:
        # No password: create_user stores an unusable one; LTI users only ever arrive by launch.
        user = get_user_model().objects.create_user(username=_username(platform, sub))
        mapping = LtiUser.objects.create(platform=platform, sub=sub, user=user)
    user = mapping.user
    user.first_name = str(claims.get("given_name", ""))[:150]
    user.last_name = str(claims.get("family_name", ""))[:150]
    user.email = str(claims.get("email", ""))[:254]
    user.save(update_fields=["first_name", "last_name", "email"])
    return user


@dataclass
class LaunchResult:
    user: Any
    course: Course
    role: str
    assignment: Assignment | None


def platform_for_launch(launch_data: dict[str, Any]) -> LtiPlatform:
    aud = launch_data.get("aud")
    client_id = aud[0] if isinstance(aud, list) else aud
    if isinstance(aud, list) and len(aud) > 1 and launch_data.get("azp") != client_id:
        raise LtiLaunchError("The id_token has several audiences and no matching azp.")
    platform = LtiPlatform.objects.filter(
        issuer=launch_data.get("iss"), client_id=client_id, enabled=True
    ).first()
    if platform is None:  # pylti1p3 found it a moment ago; only a concurrent disable gets here
        raise LtiLaunchError("This platform is not registered.")
    return platform


@transaction.atomic
def lti_launch_process(*, launch_data: dict[str, Any]) -> LaunchResult:
    """Map a validated launch to a local user, course, enrollment and (for a resource link) an
    assignment; remember the AGS endpoint for score passback and the NRPS URL for the roster."""
    platform = platform_for_launch(launch_data)
    role = role_from_lti(list(launch_data.get(CLAIM + "roles", [])))
    if role is None:
        raise LtiLaunchError(
            "Your role in this LMS course gives no access to the grader "
            "(expected Instructor, TeachingAssistant or Learner)."
        )
    context_claim = launch_data.get(CLAIM + "context") or {}
    if not context_claim.get("id"):
        raise LtiLaunchError("The launch names no LMS course (context claim).")
    context, _ = LtiContext.objects.get_or_create(
        platform=platform,
        context_id=context_claim["id"],
        defaults={"course": platform.course, "title": context_claim.get("title", "")[:255]},
    )
    nrps_url = (launch_data.get(NRPS_CLAIM) or {}).get("context_memberships_url", "")
    if nrps_url and nrps_url != context.memberships_url:
        context.memberships_url = nrps_url
        context.save(update_fields=["memberships_url"])
    course = context.course

    user = lti_user_get_or_create(platform=platform, sub=launch_data["sub"], claims=launch_data)
    enrollment_set(course=course, user=user, role=role)

    assignment = _assignment_for_link(platform, course, launch_data)
    ags = launch_data.get(AGS_CLAIM)
    if assignment is not None and ags and role == Enrollment.Role.STUDENT:
        LtiGradeTarget.objects.update_or_create(
            lti_user=LtiUser.objects.get(platform=platform, sub=launch_data["sub"]),
            assignment=assignment,
            defaults={
                # A link without a line item of its own has no "lineitem": scores then go to
                # the assignment's item in "lineitems", found or created (lti_lineitem_url).
                "lineitem_url": ags.get("lineitem") or "",
                "lineitems_url": ags.get("lineitems") or "",
                "scopes": list(ags.get("scope", [])),
                "updated_at": timezone.now(),
            },
        )
    logger.info(
        "lti launch: %s sub=%s as %s in %s, assignment %s",
        platform.name,
        launch_data["sub"],
        role,
        course.code,
        assignment and assignment.pk,
    )
    return LaunchResult(user=user, course=course, role=role, assignment=assignment)


def _assignment_for_link(
    platform: LtiPlatform, course: Course, launch_data: dict[str, Any]
) -> Assignment | None:
    """The custom parameter wins (deep linking sets it); else the stored link mapping."""
    link_id = (launch_data.get(CLAIM + "resource_link") or {}).get("id")
    custom = (launch_data.get(CLAIM + "custom") or {}).get(CUSTOM_ASSIGNMENT)
    assignment = None
    if custom:
        try:
            assignment = Assignment.objects.get(pk=int(custom), course=course)
        except (ValueError, Assignment.DoesNotExist):
            raise LtiLaunchError(
                f"This link names assignment {custom!r}, which is not in {course.code}."
            ) from None
        if link_id:
            LtiResourceLink.objects.update_or_create(
                platform=platform, resource_link_id=link_id, defaults={"assignment": assignment}
            )
    elif link_id:
        link = (
            LtiResourceLink.objects.filter(
                platform=platform, resource_link_id=link_id, assignment__course=course
            )
            .select_related("assignment")
            .first()
        )
        assignment = link.assignment if link else None
    return assignment


# --- NRPS roster ---------------------------------------------------------------------------


@transaction.atomic
def lti_roster_sync(*, course: Course) -> int:
    """Fetch the members of every LMS context mapped to ``course`` through Names and Roles and
    enroll them (users matched by sub, as on launch). Returns how many members were enrolled;
    members with no usable role or not Active are skipped."""
    count = 0
    for context in (
        LtiContext.objects.filter(course=course)
        .exclude(memberships_url="")
        .select_related("platform")
    ):
        connector = ServiceConnector(registration_for(context.platform), http_session())
        nrps = NamesRolesProvisioningService(
            connector, {"context_memberships_url": context.memberships_url}
        )
        for member in nrps.get_members():
            role = role_from_lti(list(member.get("roles", [])))
            if (
                role is None
                or member.get("status", "Active") != "Active"
                or not member.get("user_id")
            ):
                continue
            user = lti_user_get_or_create(
                platform=context.platform, sub=member["user_id"], claims=dict(member)
            )
            enrollment_set(course=course, user=user, role=role)
            count += 1
    logger.info("lti roster sync: %s members enrolled in %s", count, course.code)
    return count


# --- keys ----------------------------------------------------------------------------------


def lti_platform_generate_keys(*, platform: LtiPlatform) -> None:
    """Give the registration a fresh RSA key pair (2048 bits, what LMSs expect)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platform.tool_private_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    platform.tool_public_key = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
