"""Settings for LoopCRM, read from the environment (twelve-factor) with local defaults.

With nothing set: DEBUG on, a SQLite file under var/, and a Celery broker on the local
filesystem so that `make run` needs no server. `DATABASE_URL` switches to PostgreSQL and
`CELERY_BROKER_URL` to Redis. Production sets DEBUG=0, SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.schedules import now_where_the_report_is_read

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LOOPCRM_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable; anything but 1/true/yes/on is false."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable into a list without blanks."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 - dev default
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core",
    "accounts",
    "customers",
    "activity",
    "scores",
    "autotags",
    "segments",
    "campaigns",
    "recommendations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.NoStoreMiddleware",
    "core.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    # Axes goes last so it sees the outcome of authentication (its docs require it).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.navigation.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_SQLITE_PATH = VAR_DIR / "loopcrm.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL", default=f"sqlite:///{_SQLITE_PATH}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] == str(_SQLITE_PATH):
        _SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    # Web server and worker write the same file: WAL plus IMMEDIATE transactions avoid
    # "database is locked" (PITFALLS.md); a long timeout rides out a large import.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Authentication and security --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The client's address, for login locks and API throttles (core.clientip). X-Forwarded-For is
# client-supplied unless a proxy we run rewrites it: set TRUSTED_PROXY_COUNT to the number of proxies
# in front of the app (1 behind one nginx or load balancer); 0 trusts only the connecting address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Login throttling: lock a username + client address pair after 5 failures for 15 minutes (an
# attacker elsewhere cannot lock a user out: the lock is on the attacker's own address).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers), not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Uploads: imports stream to disk above 5 MB; refuse bodies over the configured size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_MB", "200")) * 1024 * 1024
# Exports of more rows than this are written by a job and downloaded when complete (never cut short).
EXPORT_INLINE_MAX_ROWS = int(os.environ.get("EXPORT_INLINE_MAX_ROWS", "20000"))
# An import that writes at least this many customers or tag links (or activity rows) ANALYZEs the tables it wrote.
IMPORT_ANALYZE_MIN_ROWS = int(os.environ.get("IMPORT_ANALYZE_MIN_ROWS", "10000"))
# The customer list reads the audience index only once this process has one; until then (and while
# a rebuild is due) it answers by SQL and builds the index in a background thread.
AUDIENCE_INDEX_BACKGROUND_BUILD = os.environ.get("AUDIENCE_INDEX_BACKGROUND_BUILD", "1") == "1"
MEDIA_ROOT = VAR_DIR / "media"

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The picker shows each language by its own name (name_local): English, 简体中文, whatever the page language.
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # 简体中文 with thousands separators (config/formats/zh_Hans)
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenOrBearerAuthentication",
        "accounts.authentication.RoleSessionAuthentication",
    ],
    # JSON request bodies only (uploads declare multipart themselves): one body type per operation,
    # which is what a generated client can call.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"token": "20/min"},
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # The browsable API only while developing: in production every answer is JSON (it showed forms
    # and the API's structure to anyone signed in, and is no use to a client).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
# The OpenAPI schema and its docs page: for signed-in users in production (the schema holds no data,
# but maps every endpoint for whoever asks); API_SCHEMA_PUBLIC=1 opens them, e.g. for a client
# generator in CI.
API_SCHEMA_PUBLIC = env_bool("API_SCHEMA_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny" if API_SCHEMA_PUBLIC
                          else "rest_framework.permissions.IsAuthenticated"],
    "TITLE": "LoopCRM API",
    "DESCRIPTION": "Customers, tags, segments, campaigns, tasks and reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package: no CDN (users may be offline, and CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the channel choices, used by customers (opt-outs) and campaigns alike.
    "ENUM_NAME_OVERRIDES": {"ChannelEnum": "customers.models.Channel"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.api.declare_errors"],
}

# Fault injection for the failure tests only (tests/core/test_worker_killed.py): a worker sleeps this
# long inside a launch or an import transaction, after writing, so the test can kill it there.
FAULT_PAUSE_IN_TRANSACTION_S = float(os.environ.get("LOOPCRM_FAULT_PAUSE_IN_TRANSACTION_S", "0"))

# --- E-mail (the weekly review) -------------------------------------------------------------------
# Printed to the worker's log unless an SMTP server is configured.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "LoopCRM <loopcrm@localhost>")
# The nightly metrics recompute computes this many campaigns at a time (one database connection each).
METRICS_RECOMPUTE_CONCURRENCY = int(os.environ.get("METRICS_RECOMPUTE_CONCURRENCY", "2"))

# The weekly review goes out on Monday at WEEKLY_REPORT_HOUR in this time zone.
# Key-event rules (campaigns.triggers): no task made for a customer in quiet hours (local time,
# "HH:MM-HH:MM"; empty: none) — each rule defers or drops it; events older than this on arrival
# (an import of history) fire no rule.
# Maker–checker: a campaign launches (or is scheduled) only once a marketing manager other than
# its owner has approved it; both are recorded.
CAMPAIGN_APPROVAL_REQUIRED = os.environ.get("CAMPAIGN_APPROVAL_REQUIRED", "0") == "1"
CONTACT_QUIET_HOURS = os.environ.get("CONTACT_QUIET_HOURS", "21:00-08:00")
TRIGGER_EVENT_MAX_AGE_HOURS = int(os.environ.get("TRIGGER_EVENT_MAX_AGE_HOURS", "24"))
WEEKLY_REPORT_TIME_ZONE = os.environ.get("WEEKLY_REPORT_TIME_ZONE", TIME_ZONE)
WEEKLY_REPORT_HOUR = int(os.environ.get("WEEKLY_REPORT_HOUR", "7"))

# The cache holds API throttle counts, so it must be shared by every web process: Redis when
# CACHE_URL is set (production, CI), else files under the var folder (`make run`, one machine).
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
          if CACHE_URL else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                             "LOCATION": str(VAR_DIR / "cache")}}

# API tokens: each sign-in (POST /api/v1/auth/token/) gets its own, valid this many days (and only
# until the user's password changes); a user keeps at most API_TOKENS_PER_USER, oldest dropped.
API_TOKEN_LIFETIME_DAYS = int(os.environ.get("API_TOKEN_LIFETIME_DAYS", "30"))
API_TOKENS_PER_USER = int(os.environ.get("API_TOKENS_PER_USER", "20"))

# --- Celery -------------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Web and worker must share one existing folder (PITFALLS.md); made here so that any
    # command that enqueues (seed_demo, imports) finds it, not only `make run`.
    for _folder in (BROKER_DIR / "processed", BROKER_DIR / "control"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # kombu's default is ./control in the working directory
        "store_processed": False,
    }
else:
    # Redis: a message is redelivered if not acknowledged within the visibility timeout,
    # so it must outlast the longest job (a 1M-row import).
    # A killed worker's unacknowledged message is put back after the timeout, by any live worker
    # scanning every `unacked_restore_interval` s (kombu's throttle makes it every 10th scan by
    # default; 1 = every scan, a cheap ZRANGE).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_S", 2 * 60 * 60)),
        "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL_S", 10)),
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_IGNORE_RESULT = True  # job state lives in core.Job, read by pages and the API
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = TIME_ZONE
# Seconds between activity arriving and the score run it triggers (a burst of writes is one run).
SCORES_AFTER_ACTIVITY_DELAY_S = int(os.environ.get("SCORES_AFTER_ACTIVITY_DELAY_S", 60))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "expire-stale-jobs": {
        "task": "core.jobs.expire_stale_jobs",
        "schedule": crontab(minute="*/15"),
    },
    "requeue-unsent-jobs": {  # jobs created while the broker was down
        "task": "core.jobs.requeue_unsent_jobs",
        "schedule": crontab(minute="*"),
    },
    "prune-change-log": {
        "task": "customers.jobs.prune_change_log",
        "schedule": crontab(minute=15, hour="*/6"),
    },
    "fire-triggers": {  # events whose message was lost (a broker restart); normally the ingest's own job
        "task": "campaigns.jobs.fire_triggers",
        "schedule": crontab(minute="*"),
    },
    "settle-trigger-firings": {  # absences confirmed, quiet hours over
        "task": "campaigns.jobs.settle_trigger_firings",
        "schedule": crontab(minute="*"),
    },
    "launch-due-waves": {  # recurring templates whose contact window opened
        "task": "campaigns.jobs.launch_due_waves",
        "schedule": crontab(minute="*"),
    },
    "check-condition-triggers": {
        "task": "campaigns.jobs.check_condition_triggers",
        "schedule": crontab(minute="*/5"),
    },
    "record-dormancy": {  # the dashboard's dormant share, at the end of each day
        "task": "activity.jobs.record_dormancy",
        "schedule": crontab(minute=20, hour=0),
    },
    "launch-due-campaigns": {
        "task": "campaigns.jobs.launch_due_campaigns",
        "schedule": crontab(minute="*"),
    },
    "recompute-campaign-metrics": {
        "task": "campaigns.jobs.recompute_all_metrics",
        "schedule": crontab(minute=30, hour=2),
    },
    "weekly-operations-review": {
        "task": "campaigns.jobs.send_weekly_report",
        # Monday morning where the marketing team is (which need not be the server's zone).
        "schedule": crontab(minute=0, hour=WEEKLY_REPORT_HOUR, day_of_week=1, nowfun=now_where_the_report_is_read),
    },
    "record-segment-counts": {  # the home page's "audience moved sharply"
        "task": "segments.jobs.record_segment_counts",
        "schedule": crontab(minute=45, hour=1),
    },
    "apply-auto-tag-rules": {  # rules on behaviour windows ("bought in 30 days") move with the days
        "task": "autotags.jobs.apply_rules",
        "schedule": crontab(minute=20),
    },
    "compute-scores": {  # every score as of today, then the auto-tag rules (scores.services)
        "task": "scores.jobs.compute_scores",
        "schedule": crontab(minute=10, hour=1),
    },
    "purge-stale-uploads": {
        "task": "customers.jobs.purge_stale_uploads",
        "schedule": crontab(minute=30, hour=3),
    },
}

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
