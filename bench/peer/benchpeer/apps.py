import urllib.request
from http.client import HTTPException

from django.apps import AppConfig
from django.conf import settings

from health_check.backends import BaseHealthCheckBackend
from health_check.exceptions import ServiceUnavailable
from health_check.plugins import plugin_dir


class HTTPCheck(BaseHealthCheckBackend):
    """GET a URL and want a 2xx answer: healthjob's http check, as a plugin."""

    def __init__(self, url, name):
        super().__init__()
        self.url = url
        self.name = name

    def identifier(self):
        return self.name

    def check_status(self):
        try:
            with urllib.request.urlopen(self.url, timeout=10) as resp:
                resp.read()
        except (OSError, HTTPException) as e:
            raise ServiceUnavailable(f"{self.url}: {e}") from e


class HTTPChecksConfig(AppConfig):
    name = "benchpeer"

    def ready(self):
        for i in range(settings.BENCH_HTTP_COUNT):
            plugin_dir.register(HTTPCheck, url=settings.BENCH_HTTP_URL, name=f"HTTPCheck{i:05d}")
