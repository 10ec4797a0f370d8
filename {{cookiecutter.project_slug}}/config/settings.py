"""Settings, read from the environment (12-factor).

Everything that differs between machines comes from an environment variable or
from the `.env` file next to manage.py; `.env.example` lists them all.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.layers import redis_layer

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # variables already set in the environment win

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Pages on these origins (scheme://host[:port]) may open WebSockets here, besides the
# site's own origin (realtime/origins.py); the same idea as CSRF_TRUSTED_ORIGINS.
WEBSOCKET_ALLOWED_ORIGINS = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=CSRF_TRUSTED_ORIGINS)

# HTTPS, on by default outside DEBUG. Behind a TLS-terminating proxy, run daphne
# with --proxy-headers and have the proxy set X-Forwarded-Proto. HTTPS=false is
# only for production-like runs over plain http on one machine (the browser tests).
HTTPS = env.bool("HTTPS", default=not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Probes and Prometheus reach each process directly over plain http inside the
# network (README, "Monitoring"): answer them rather than redirect to https.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics/$"]

PROJECT_NAME = "{{ cookiecutter.project_name }}"

# The example apps. Each is one self-contained folder: delete it to switch the app
# off, and its URLs, WebSocket routes and navigation entry go with it (config/urls.py,
# config/routing.py and the context processor read this list).
EXAMPLE_APPS = [app for app in ("chat", "notifications", "game") if (BASE_DIR / app).is_dir()]

INSTALLED_APPS = [
    "daphne",  # must precede staticfiles so `runserver` serves WebSockets too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "csp",
    "django_ratelimit",
    "realtime",
    "accounts",
    *EXAMPLE_APPS,
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
    "csp.middleware.CSPMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",  # over a limit: RATELIMIT_VIEW (429)
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Write-ahead log: readers never wait for the writer, and a commit does not
    # wait for a disk sync (consumers write a message or presence row at a time).
    # IMMEDIATE transactions take the write lock up front instead of failing
    # with "database is locked" halfway.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer: how consumers in different processes reach each other.
# Without REDIS_URL an in-memory layer serves one process (development, the demo).
REDIS_URL = env("REDIS_URL", default="")
REDIS_PREFIX = env("REDIS_PREFIX", default="asgi")
# Past what one Redis carries, the channel layer alone shards over several
# (comma-separated, the same list in the same order in every process); the cache
# and the per-user budgets below stay on REDIS_URL (README, "Capacity").
CHANNEL_LAYER_REDIS_URLS = env.list("CHANNEL_LAYER_REDIS_URLS", default=[])
if "," in REDIS_URL:
    # Django's RedisCache would read a list as a primary and its replicas.
    raise ImproperlyConfigured(
        "REDIS_URL names one Redis; list shards in CHANNEL_LAYER_REDIS_URLS instead."
    )
if CHANNEL_LAYER_REDIS_URLS and not REDIS_URL:
    raise ImproperlyConfigured("CHANNEL_LAYER_REDIS_URLS needs REDIS_URL set too.")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": redis_layer(
            CHANNEL_LAYER_REDIS_URLS or REDIS_URL,
            flavor=env("REDIS_CHANNEL_LAYER", default="core"),
            prefix=REDIS_PREFIX,
        )
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds the rate-limit counters (django-ratelimit). With Redis every
# process counts together; without it the project runs one process (the
# in-memory channel layer cannot span more), so that process's memory is exact.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django-ratelimit names only the caches it tests. Django's RedisCache is fine
# (add() is SET NX, incr() is INCRBY: atomic); LocMemCache is only wrong across
# processes, which the settings above rule out.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if not REDIS_URL:
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# Abuse limits per client address (REMOTE_ADDR: behind a proxy, run daphne with
# --proxy-headers so it is the client's). Guest accounts: "count/period",
# period s, m, h or d; over it, a 429 page (RATELIMIT_VIEW).
GUEST_RATE_LIMIT = env("GUEST_RATE_LIMIT", default="30/h")
RATELIMIT_VIEW = "accounts.views.rate_limited"
# Log-ins (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused with a 429 page for
# LOGIN_COOLOFF_MINUTES; a right password before then resets the count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # no table row per successful log-in

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out log-in before checking it
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Content-Security-Policy (django-csp): scripts (ES modules), styles, images and
# connections from this origin only; no inline script or style anywhere. 'self'
# in connect-src also covers ws:// and wss:// to this host (CSP Level 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG  # serve straight from the apps while developing
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_ROOT = BASE_DIR / "public"  # served at the site's root: /favicon.ico

# The realtime core (realtime/): limits applied to every WebSocket consumer.
REALTIME = {
    # Largest text frame a consumer accepts; daphne's own limit is set to match
    # (see the Makefile's `run` target and the Procfile).
    "MAX_MESSAGE_BYTES": env.int("REALTIME_MAX_MESSAGE_BYTES", default=16 * 1024),
    # A presence row not refreshed for this long is ignored, then purged (its
    # process died). Open sockets refresh theirs every third of it, checked every
    # KEEPALIVE_SECONDS: keep the TTL above three keep-alives.
    "PRESENCE_TTL_SECONDS": env.int("REALTIME_PRESENCE_TTL_SECONDS", default=90),
    # How often an open socket re-joins its groups (and notices a lost layer).
    "KEEPALIVE_SECONDS": env.float("REALTIME_KEEPALIVE_SECONDS", default=10),
    # Inbound messages per connection: bursts of BURST, then PER_SECOND a second.
    # Over it, a message is refused with a "rate_limited" error frame.
    "RATE_LIMIT": {"BURST": 20, "PER_SECOND": 5},
    # Inbound messages per user across all their sockets (and server processes:
    # counted in Redis when REDIS_URL is set), as a `limits` rate string.
    "USER_RATE_LIMIT": env("REALTIME_USER_RATE_LIMIT", default="60 per 10 seconds"),
    "USER_RATE_LIMIT_STORAGE": f"async+{REDIS_URL}" if REDIS_URL else "async+memory://",
    # Key prefix of the budget in that store: projects sharing a Redis never share budgets.
    "USER_RATE_LIMIT_PREFIX": f"{REDIS_PREFIX}:budget",
    # Sockets one user may hold open in one server process; the next one is
    # closed with code 4429 (the browser retries with backoff).
    "MAX_SOCKETS_PER_USER": env.int("REALTIME_MAX_SOCKETS_PER_USER", default=20),
}

# Bearer token Prometheus sends to read /metrics/ (realtime/metrics.py); unset, the
# page does not exist (404).
METRICS_TOKEN = env("METRICS_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failures and lock-outs; no line per log-in
        # A failing check would log a traceback on every probe; the 503 says it.
        "health_check": {"level": "ERROR"},
    },
}
