"""Settings for the union service portal, read from the environment alone.

Development (DEBUG on) creates its own secret keys in the ignored file `.env.local`;
production (DEBUG off) refuses to start without them.
"""

from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from unionportal import devkeys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A deployment may keep its settings in `.env`; development keys live in `.env.local`,
# which is read only in development so production never picks up a development key.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
if DEBUG and (BASE_DIR / ".env.local").exists():
    environ.Env.read_env(BASE_DIR / ".env.local", overwrite=False)

# Keys: SECRET_KEY signs sessions and e-card tokens; PII_ENCRYPTION_KEYS (comma-separated
# Fernet keys, the first one encrypts, all decrypt) protect personal data at rest;
# PII_INDEX_KEY keys the blind index used to look up ID numbers.
_REQUIRED_KEYS = ("SECRET_KEY", "PII_ENCRYPTION_KEYS", "PII_INDEX_KEY")
_missing = [k for k in _REQUIRED_KEYS if not env.str(k, default="")]
if _missing:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"Missing required setting(s) {', '.join(_missing)}: set them in the environment "
            "(DEBUG is off, so development keys are not generated)."
        )
    devkeys.ensure(BASE_DIR / ".env.local", _missing)
    environ.Env.read_env(BASE_DIR / ".env.local", overwrite=False)

SECRET_KEY = env.str("SECRET_KEY")
PII_ENCRYPTION_KEYS = env.list("PII_ENCRYPTION_KEYS")
PII_INDEX_KEY = env.str("PII_INDEX_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused CSRF token: the portal's "page expired" page (templates/403_csrf.html), never Django's.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# The public address used in QR codes (station posters); defaults to the request's host.
SITE_URL = env.str("SITE_URL", default="")

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "simple_history",
    "axes",
    "csp",
    "social_django",
    "core",
    "members",
    "hardship",
    "vouchers",
    "workshops",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy headers on every answer (below: CONTENT_SECURITY_POLICY).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sold-out voucher claims (most of the rush) are answered here, before sessions and CSRF.
    "vouchers.middleware.SoldOutClaimMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store on the API and on every page that read a signed-in session.
    "core.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.staff_sessions.StaffSessionTimeoutMiddleware",
    # An htmx action that needs a login sends the browser to the login page of the page it is on.
    "core.htmx.HtmxLoginRedirectMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # AxesMiddleware last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "unionportal.urls"

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
                "core.context_processors.portal",
                "vouchers.context_processors.merchant",
            ],
        },
    },
]

WSGI_APPLICATION = "unionportal.wsgi.application"
ASGI_APPLICATION = "unionportal.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "members.User"

AUTHENTICATION_BACKENDS = [
    # Staff password logins are counted and locked out by django-axes.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Workers log in with their mobile number and a one-time SMS code.
    "members.auth.SmsCodeBackend",
]

# WeChat web authorisation (members.wechat): used only when both are set; without them the WeChat
# buttons are absent and its addresses answer 404. The endpoints are WeChat's documented ones.
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env.str("WECHAT_APP_SECRET", default="")
WECHAT_AUTHORIZE_URL = env.str("WECHAT_AUTHORIZE_URL", default="https://open.weixin.qq.com/connect/oauth2/authorize")
WECHAT_ACCESS_TOKEN_URL = env.str(
    "WECHAT_ACCESS_TOKEN_URL", default="https://api.weixin.qq.com/sns/oauth2/access_token"
)
if WECHAT_APP_ID and WECHAT_APP_SECRET:
    AUTHENTICATION_BACKENDS.append("members.wechat.WechatOAuth2")
# social-auth-app-django: WeChat never creates a user; members.wechat.bind_or_sign_in binds or signs in.
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "members.wechat.bind_or_sign_in",
)
SOCIAL_AUTH_JSONFIELD_ENABLED = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "members:login"
LOGIN_REDIRECT_URL = "members:home"

# django-axes: lock a staff account (by username and IP) after repeated failed passwords.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client's address as the rate limits see it (core.ratelimit.client_ip, TRUSTED_PROXY_COUNT):
# behind the proxy, REMOTE_ADDR is the proxy's, the same for everyone.
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_ip"
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# The lock-out page depends on the path: the admin's above under /admin/, the worker site's own
# elsewhere (core.views.axes_lockout). Workers' SMS logins are not counted by axes at all: they have
# their own limits (members.services.sms_login) and page (templates/locked_out.html).
AXES_LOCKOUT_CALLABLE = "core.views.axes_lockout"
# Axes keeps the failed request's GET and POST data (axes_accessattempt, shown in the admin); it
# masks these parameters. The worker forms that log in (members.forms: LoginForm, and
# ApplicationForm, which logs an anonymous applicant in) carry a whole ID number, real name and
# mobile number; tests/members/test_lockout.py checks that every personal field is listed here.
AXES_SENSITIVE_PARAMETERS = [
    # axes' defaults (masked in its log lines)
    "username",
    "ip_address",
    "password",
    "csrfmiddlewaretoken",
    "name",
    "id_number",
    "mobile",
    "sms_code",
    "employer_name",
]

# Language and time.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages installed by npm (package-lock.json); never copied into the repo.
    ("vendor/weui", NODE_MODULES / "weui" / "dist" / "style"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    # The merchant page's camera reader; its UMD build loads qr-scanner-worker.min.js beside it.
    ("vendor/qr-scanner", NODE_MODULES / "qr-scanner"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"

# Redis: the cache, rate limits and the Celery broker. Without REDIS_URL the cache is
# local memory and Celery runs every task eagerly in-process.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Voucher claims (vouchers/claims.py): "auto" takes stock in Redis when REDIS_URL is set and in the
# database otherwise; "db" or "redis" forces a path. Rate limits per member and per client address.
VOUCHER_CLAIM_BACKEND = env.str("VOUCHER_CLAIM_BACKEND", default="auto")
VOUCHER_CLAIM_RATE_PER_MEMBER = env.str("VOUCHER_CLAIM_RATE_PER_MEMBER", default="30/m")
VOUCHER_CLAIM_RATE_PER_IP = env.str("VOUCHER_CLAIM_RATE_PER_IP", default="300/m")
# Fraud signal (vouchers/fraud.py): one member redeeming at least this many vouchers at one merchant in an hour.
VOUCHER_FRAUD_MEMBER_BURST = env.int("VOUCHER_FRAUD_MEMBER_BURST", default=5)
# Benchmark-only views (a trivial view as the ceiling of bench/voucher_rush.py); never on in production.
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The hardship monthly cycle (hardship/cycle.py): Celery beat runs it for the previous month on
# this day of the month at this hour (TIME_ZONE); a running cycle silent for longer than
# HARDSHIP_CYCLE_STALE_SECONDS is taken over by the next worker.
HARDSHIP_CYCLE_CRONTAB_DAY = env.int("HARDSHIP_CYCLE_CRONTAB_DAY", default=5)
HARDSHIP_CYCLE_CRONTAB_HOUR = env.int("HARDSHIP_CYCLE_CRONTAB_HOUR", default=2)
HARDSHIP_CYCLE_STALE_SECONDS = env.int("HARDSHIP_CYCLE_STALE_SECONDS", default=600)
# Agencies' pushes (hardship/ingest.py): larger ones than HARDSHIP_PUSH_SYNC_MAX_ROWS rows are
# stored and ingested by a Celery task in chunks of HARDSHIP_INGEST_CHUNK_ROWS (each committed on
# its own), checked in HARDSHIP_INGEST_PROCESSES processes.
HARDSHIP_PUSH_SYNC_MAX_ROWS = env.int("HARDSHIP_PUSH_SYNC_MAX_ROWS", default=20_000)
HARDSHIP_PUSH_MAX_BYTES = env.int("HARDSHIP_PUSH_MAX_BYTES", default=512 * 1024 * 1024)
HARDSHIP_INGEST_CHUNK_ROWS = env.int("HARDSHIP_INGEST_CHUNK_ROWS", default=50_000)
HARDSHIP_INGEST_PROCESSES = env.int("HARDSHIP_INGEST_PROCESSES", default=1)
# A CSV file up to this size is counted in the request; larger ones, and every XLSX file, are only
# checked for size, SHA-256 and shape there, and counted and read by the worker.
HARDSHIP_PUSH_SYNC_MAX_BYTES = env.int("HARDSHIP_PUSH_SYNC_MAX_BYTES", default=8 * 1024 * 1024)
# The rejected rows a push's answer lists (the rest are counted): a bounded answer.
HARDSHIP_PUSH_ANSWER_MAX_ERRORS = env.int("HARDSHIP_PUSH_ANSWER_MAX_ERRORS", default=1_000)
# The most rows one push may hold (its manifest, and the worker's count).
HARDSHIP_PUSH_MAX_ROWS = env.int("HARDSHIP_PUSH_MAX_ROWS", default=2_000_000)
# Unusual pushes are held for city staff (hardship/ingest/holds.py): fewer rows than the minimum or
# than the share of the median of the agency's last pushes of the kind; a period that ended more
# than HARDSHIP_PUSH_OPEN_MONTHS months ago; the agency's pushes of one kind and period past the max.
HARDSHIP_PUSH_HOLD_MIN_ROWS = env.int("HARDSHIP_PUSH_HOLD_MIN_ROWS", default=10)
HARDSHIP_PUSH_HOLD_SHARE = env.float("HARDSHIP_PUSH_HOLD_SHARE", default=0.1)
HARDSHIP_PUSH_HOLD_HISTORY = env.int("HARDSHIP_PUSH_HOLD_HISTORY", default=5)
HARDSHIP_PUSH_OPEN_MONTHS = env.int("HARDSHIP_PUSH_OPEN_MONTHS", default=2)
HARDSHIP_PUSH_HOLD_MAX_PER_PERIOD = env.int("HARDSHIP_PUSH_HOLD_MAX_PER_PERIOD", default=4)
# Workbooks people send (core/xlsx.py), checked from the zip's directory before any part is read:
# entries, uncompressed bytes in all, bytes of any part but a worksheet (the shared strings are
# read whole), and the compression ratio of a part over 1 MiB (a zip bomb).
XLSX_MAX_ENTRIES = env.int("XLSX_MAX_ENTRIES", default=1_000)
XLSX_MAX_UNCOMPRESSED_BYTES = env.int("XLSX_MAX_UNCOMPRESSED_BYTES", default=1 << 30)
XLSX_MAX_PART_BYTES = env.int("XLSX_MAX_PART_BYTES", default=128 << 20)
XLSX_MAX_RATIO = env.int("XLSX_MAX_RATIO", default=200)

# SMS: a pluggable sender. Development and tests log messages; production names a provider.
SMS_BACKEND = env.str("SMS_BACKEND", default="core.sms.ConsoleSmsBackend")
SMS_PROVIDER_URL = env.str("SMS_PROVIDER_URL", default="")
SMS_PROVIDER_KEY = env.str("SMS_PROVIDER_KEY", default="")
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_MAX_ATTEMPTS = 5
# Wrong codes allowed per mobile number and calendar day (Asia/Shanghai), over all its codes: without
# it, 5 tries per code and 5 codes an hour give a guesser 25 tries an hour, every hour. Once reached,
# the number gets no code and logs in with none until midnight.
SMS_CODE_FAILURES_PER_DAY = env.int("SMS_CODE_FAILURES_PER_DAY", default=10)
# Rate limits on sending codes, per mobile number and per client IP.
SMS_RATE_PER_MOBILE = env.str("SMS_RATE_PER_MOBILE", default="5/h")
SMS_RATE_PER_IP = env.str("SMS_RATE_PER_IP", default="20/h")
SMS_RESEND_SECONDS = 60
# A cap on login codes sent by the whole portal (an SMS costs money, and a flood of codes to many
# numbers passes the limits per number and per address): an hour's and a day's.
SMS_GLOBAL_RATE_PER_HOUR = env.str("SMS_GLOBAL_RATE_PER_HOUR", default="2000/h")
SMS_GLOBAL_RATE_PER_DAY = env.str("SMS_GLOBAL_RATE_PER_DAY", default="20000/d")
# Failed API authentications (a wrong, malformed or revoked key) allowed per client address; past
# it the address gets 429 until the window ends, even with a right key (core.api_auth).
API_AUTH_FAILURES_PER_IP = env.str("API_AUTH_FAILURES_PER_IP", default="20/10min")

# The privacy policy workers consent to when they apply.
PRIVACY_POLICY_VERSION = env.str("PRIVACY_POLICY_VERSION", default="2026-12")
# How long an e-card QR token stays valid.
MEMBER_CARD_TOKEN_MAX_AGE = env.int("MEMBER_CARD_TOKEN_MAX_AGE", default=24 * 3600)

# The largest body Django reads into memory (a form, a JSON body). The push API allows a JSON page
# of 5,000 rows (hardship.ingest.PAGE_MAX_ROWS): at the longest its columns allow, every character
# escaped as \uXXXX and indented, such a page is about 14 MB (tests/core/test_api_limits.py builds it).
# Over the limit the API answers 413 `body_too_large`. Files are streamed to disk and have their own
# limit (HARDSHIP_PUSH_MAX_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=16 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's JSON parser, refusing JSON nested too deeply with a 400 instead of a server error.
    "DEFAULT_PARSER_CLASSES": [
        "core.api_parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Refuses a cursor it did not make with 400 `bad_cursor`.
    "DEFAULT_PAGINATION_CLASS": "core.paginator.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env.str("API_RATE_PER_KEY", default="600/min"),
        "verify": env.str("API_RATE_VERIFY", default="120/min"),
    },
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "工会服务门户 API",
    "DESCRIPTION": "The union service portal's API for partner agencies and merchants. "
    "Authenticate with `Authorization: Bearer <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc are served from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets shared by several fields get one stable name each.
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "members.models.Member.Status",
        "ApplicationStatusEnum": "members.models.MembershipApplication.Status",
        "JoinChannelEnum": "members.models.JoinChannel",
        "ReferralStateEnum": "hardship.models.Referral.State",
        "ReferralBenefitEnum": "hardship.models.Referral.Benefit",
        "PushStateEnum": "hardship.models.DataPush.State",
        "VoucherStateEnum": "vouchers.models.Voucher.State",
        "RedemptionStateEnum": "vouchers.models.Redemption.State",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # `security`: refused API keys, the SMS cap and held pushes, for the operators' alerts.
    "loggers": {"django.db.backends": {"level": "INFO"}, "security": {"level": "INFO"}},
}

# Security. Production sits behind a TLS-terminating proxy that sets X-Forwarded-Proto.
# How many proxies in front of Django append the client's address to X-Forwarded-For: the client
# is that many entries from the right (core.ratelimit.client_ip). 0 ignores the header (nothing in
# front of Django could be trusted to set it).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)
# Whether the deployment said how many proxies there are: `check --deploy` refuses to guess
# (core.checks), since a wrong count lets a forged X-Forwarded-For past the rate limits.
TRUSTED_PROXY_COUNT_SET = "TRUSTED_PROXY_COUNT" in env.ENVIRON
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 30 * 24 * 3600  # workers, on their phones
# Staff sessions (the admin, over every member's data in their union subtree) end after 30 minutes
# without a request and 12 hours after the login however busy (ASVS 4.0 level 2, V3.3.2;
# core.staff_sessions).
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
STAFF_SESSION_MAX_SECONDS = env.int("STAFF_SESSION_MAX_SECONDS", default=12 * 3600)
# With Redis, sessions are read from the cache and written through to the database (a restart of
# Redis logs nobody out); without it, from the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from the portal's own static files, or inline
# with the request's nonce (`<script nonce="{{ request.csp_nonce }}">`); no inline event handlers,
# no eval. Styles may be inline: Django's admin and htmx's indicator style use them. Images and
# media from blob:/data: for QR codes and the cashier's camera; its QR reader runs in a worker.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if WECHAT_APP_ID and WECHAT_APP_SECRET:
    # "Bind WeChat" is a form whose answer redirects to WeChat's authorisation page: Chromium applies
    # form-action to that redirect too.
    from urllib.parse import urlsplit as _urlsplit

    _wechat = _urlsplit(WECHAT_AUTHORIZE_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_wechat.scheme}://{_wechat.netloc}")
# Permissions-Policy (django-permissions-policy): the camera for the cashier's QR scanning on the
# portal's own pages; every other powerful feature off, for the portal and anything it embeds.
PERMISSIONS_POLICY = {
    "camera": ["self"],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "bluetooth": [],
    "hid": [],
    "midi": [],
    "display-capture": [],
    "fullscreen": ["self"],
    "autoplay": [],
    "browsing-topics": [],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # /healthz is probed over plain HTTP by the load balancer.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
