import signal
import threading
import uuid
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from health_check.mixins import CheckMixin

from ...utils import save_health_check_data_to_db


class Command(BaseCommand):
    """The spec's monitor, with its plugins really run every cycle: build the
    registered plugins and run them as django-health-check runs them (a
    thread per plugin, plugin.run_check()), save the payload, print a line
    per plugin, sleep HEALTH_CHECK_INTERVAL. SIGTERM stops it after the
    cycle in flight."""

    help = "Run the health checks every HEALTH_CHECK_INTERVAL seconds."

    def handle(self, *args, **options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.is_set():
            run = CheckMixin()
            run.run_check()
            payload = {
                "uuid": str(uuid.uuid4()),
                "timestamp": datetime.utcnow().isoformat(),
                "checks": [
                    {"name": p.identifier(), "status": p.status, "message": str(p.pretty_status())}
                    for p in run.plugins
                ],
            }
            for c in payload["checks"]:
                style = self.style.SUCCESS if c["status"] else self.style.ERROR
                self.stdout.write("{:<24} ... {}".format(c["name"], style(c["message"])))
            self.stdout.flush()
            if settings.PERSIST_HEALTH_CHECK_DATA:
                save_health_check_data_to_db(payload)
            stop.wait(settings.HEALTH_CHECK_INTERVAL)
