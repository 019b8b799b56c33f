import json
import time
import uuid
from datetime import datetime

from django.core.management.base import BaseCommand

from ...models import HeathCheckJob
from ...utils import save_health_check_data_to_db


class Command(BaseCommand):
    """Time save_health_check_data_to_db (one bulk_create per payload) for
    payloads of each given size, each for --seconds after one warm-up
    payload; print {"size": rows per second} as JSON."""

    def add_arguments(self, parser):
        parser.add_argument("sizes", nargs="+", type=int)
        parser.add_argument("--seconds", type=float, default=1.0)

    def handle(self, *args, sizes, seconds, **options):
        rates = {}
        for n in sizes:
            payload = {
                "uuid": str(uuid.uuid4()),
                "timestamp": datetime.utcnow().isoformat(),
                "checks": [{"name": f"check-{i:05d}", "status": 1, "message": "working"} for i in range(n)],
            }
            save_health_check_data_to_db(payload)
            rows, start = 0, time.perf_counter()
            while True:
                save_health_check_data_to_db(payload)
                rows += n
                elapsed = time.perf_counter() - start
                if elapsed >= seconds:
                    break
            rates[str(n)] = rows / elapsed
        HeathCheckJob.objects.all().delete()
        self.stdout.write(json.dumps(rates))
