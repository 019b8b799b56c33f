"""Settings of the bench's peer, from the environment the bench sets:

BENCH_DATABASE_URL  sqlite:PATH or postgres://user@host:port/name
BENCH_REDIS_URL     the cache and the Redis plugin's server
BENCH_MEDIA_ROOT    where the storage plugin writes
BENCH_CHECKS        "std": the 7 plugins (database, cache, storage,
                    migrations, disk, memory, Redis); "http": BENCH_HTTP_COUNT
                    HTTP plugins against BENCH_HTTP_URL
BENCH_INTERVAL      HEALTH_CHECK_INTERVAL in seconds, fractions allowed
BENCH_PERSIST       "1" saves every run (PERSIST_HEALTH_CHECK_DATA)
"""
import os
from urllib.parse import unquote, urlsplit

SECRET_KEY = "healthjob-bench-peer"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"


def database(url):
    if url.startswith("sqlite:"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url[len("sqlite:"):]}
    u = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": u.path.lstrip("/"),
        "USER": unquote(u.username or ""),
        "PASSWORD": unquote(u.password or ""),
        "HOST": u.hostname or "",
        "PORT": str(u.port or ""),
    }


DATABASES = {"default": database(os.environ["BENCH_DATABASE_URL"])}

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
MEDIA_ROOT = os.environ.get("BENCH_MEDIA_ROOT", "/tmp/healthjob-bench-media")

HEALTH_CHECK = {"DISK_USAGE_MAX": 90, "MEMORY_MIN": 100, "WARNINGS_AS_ERRORS": True}
HEALTH_CHECK_INTERVAL = float(os.environ.get("BENCH_INTERVAL", "5"))
PERSIST_HEALTH_CHECK_DATA = os.environ.get("BENCH_PERSIST") == "1"
SYNC_HEALTH_CHECK_DATA = False

BENCH_HTTP_URL = os.environ.get("BENCH_HTTP_URL", "")
BENCH_HTTP_COUNT = int(os.environ.get("BENCH_HTTP_COUNT", "0"))

INSTALLED_APPS = ["health_check", "django_health_check_job"]
if os.environ.get("BENCH_CHECKS", "std") == "std":
    INSTALLED_APPS += [
        "health_check.db",
        "health_check.cache",
        "health_check.storage",
        "health_check.contrib.migrations",
        "health_check.contrib.psutil",
        "health_check.contrib.redis",
    ]
else:
    INSTALLED_APPS += ["benchpeer.apps.HTTPChecksConfig"]
