# Django settings for the interop test: one app with the spec's model, on the
# database named by HEALTHJOB_DJANGO_DB (sqlite:PATH or postgres://user@host:port/db).
import os
from urllib.parse import urlparse

url = os.environ["HEALTHJOB_DJANGO_DB"]
if url.startswith("sqlite:"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": url[len("sqlite:"):]}}
else:
    u = urlparse(url)
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": u.path.lstrip("/"),
        "USER": u.username or "", "PASSWORD": u.password or "", "HOST": u.hostname, "PORT": u.port or 5432,
    }}

INSTALLED_APPS = ["django_health_check_job"]
SECRET_KEY = "healthjob-interop-test"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
