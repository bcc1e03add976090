"""The feedback core: from a failing submission's evidence to a checked explanation.

Django-free (like ``sandbox/``, which it drives): the repair search (``repair``, ``statements``),
its validation in the sandbox (``validation``), fault localization (``sbfl``), the prompt and the
model engines (``prompt``, ``engines``), voting over samples (``voting``), the decision
(``verdict``), the orchestration (``pipeline``) and the offline evaluation (``evaluation``).
The Django app ``grader.feedback`` stores, reviews and releases what this package produces;
``tests/feedback/test_core_is_django_free.py`` checks that nothing here loads Django or Celery.
"""
