"""The teacher's feedback settings for an assignment, through its settings page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grader.feedback.models import AssignmentFeedbackConfig

pytestmark = pytest.mark.django_db


def form(**changes):
    data = {"action": "feedback", "enabled": "on", "release": "review", "temperature": "0.6",
            "auto_release_agreement": "", "samples": "", "thinking_budget": "",
            "max_new_tokens": "", "system_prompt": ""}
    return {**data, **changes}


def test_a_teacher_sets_release_samples_budget_and_system_prompt(client, world):
    client.force_login(world.teacher)
    url = reverse("assignment_edit", args=[world.assignment.pk])
    assert "Feedback" in client.get(url).content.decode()
    response = client.post(url, form(release="auto", auto_release_agreement="0.75", samples="8",
                                     thinking_budget="1024", system_prompt="Be kind."))
    assert response.status_code == 302
    config = AssignmentFeedbackConfig.objects.get(assignment=world.assignment)
    assert (config.release, config.auto_release_agreement, config.samples) == ("auto", 0.75, 8)
    assert (config.thinking_budget, config.system_prompt) == (1024, "Be kind.")


@pytest.mark.parametrize("changes", [
    {"release": "auto"},  # no threshold
    {"auto_release_agreement": "1.5"},
    {"temperature": "7"},
    {"samples": "500"},
])
def test_bad_feedback_settings_are_refused_with_a_message(client, world, changes):
    client.force_login(world.teacher)
    url = reverse("assignment_edit", args=[world.assignment.pk])
    response = client.post(url, form(**changes))
    assert response.status_code == 400
    assert not AssignmentFeedbackConfig.objects.filter(assignment=world.assignment).exists()


def test_a_ta_cannot_change_feedback_settings(client, world):
    client.force_login(world.ta)
    url = reverse("assignment_edit", args=[world.assignment.pk])
    assert client.post(url, form(samples="3")).status_code == 404
    assert not AssignmentFeedbackConfig.objects.exists()
