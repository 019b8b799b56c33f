"""The spec's utilities, persistence only: the bench never syncs."""
from .models import HeathCheckJob


def save_health_check_data_to_db(payload):
    HeathCheckJob.objects.bulk_create(
        HeathCheckJob(name=c["name"], status=c["status"], message=c["message"]) for c in payload["checks"]
    )
