from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from grader.courses.models import Course
from grader.courses.selectors import is_course_staff
from grader.feedback.models import Feedback
from grader.feedback.selectors import review_items
from grader.feedback.services import feedback_bulk_release, feedback_reject, feedback_release
from grader.feedback_loop.selectors import comment_suggestions
from grader.feedback_loop.services import feedback_edit_release_and_save


def _staff_course(request: HttpRequest, pk: int) -> Course:
    course = get_object_or_404(Course, pk=pk)
    if not is_course_staff(user=request.user, course=course):
        raise Http404
    return course


@login_required
def review_queue(request: HttpRequest, pk: int) -> HttpResponse:
    course = _staff_course(request, pk)
    items = review_items(course=course)
    # Saved comments for similar items (same assignment and failing test, or same category).
    suggested = comment_suggestions(course=course, feedbacks=[i.feedback for i in items])
    return render(
        request,
        "feedback/review.html",
        {
            "course": course,
            "items": items,
            "reviewed": [(i, suggested.get(i.feedback.id, [])) for i in items],
        },
    )


@login_required
@require_POST
def review_action(request: HttpRequest, pk: int, feedback_id: int) -> HttpResponse:
    course = _staff_course(request, pk)
    feedback = get_object_or_404(
        Feedback,
        pk=feedback_id,
        submission__assignment__course=course,
        status=Feedback.Status.PENDING_REVIEW,
    )
    action = request.POST.get("action")
    if action == "approve":
        feedback_release(feedback=feedback)
        messages.success(request, "Feedback released to the student.")
    elif action == "edit":
        saved = feedback_edit_release_and_save(
            feedback=feedback,
            explanation=request.POST.get("explanation", ""),
            hint=request.POST.get("hint", ""),
            by=request.user,
            save=request.POST.get("save_comment") == "on",
        )
        messages.success(request, "Edited feedback released to the student."
                         + (" Saved as a reusable comment." if saved else ""))
    elif action == "reject":
        feedback_reject(feedback=feedback)
        messages.info(request, "Feedback rejected; the student will not see it.")
    else:
        messages.error(request, "Unknown action.")
    return redirect("review_queue", pk=course.pk)


@login_required
@require_POST
def review_bulk_approve(request: HttpRequest, pk: int) -> HttpResponse:
    course = _staff_course(request, pk)
    try:
        threshold = float(request.POST.get("min_agreement", "1"))
    except ValueError:
        threshold = 1.0
    threshold = min(max(threshold, 0.0), 1.0)
    released = feedback_bulk_release(course=course, min_agreement=threshold)
    messages.success(request, f"Released {released} item(s) with agreement ≥ {threshold:.0%}.")
    return redirect("review_queue", pk=course.pk)
