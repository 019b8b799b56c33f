# Runs one step of the interop test with Django's ORM:
#   create-table  create the table as Django's migration does
#   write         save a record, as the Django app's monitor does
#   queries       print the spec's example queries' results as JSON
import json
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"

import django

django.setup()

from django.db import connection
from django.utils import timezone
from django_health_check_job.models import HeathCheckJob


def rows(qs):
    return sorted([r.name, r.status, r.message] for r in qs)


step = sys.argv[1]
if step == "create-table":
    with connection.schema_editor() as editor:
        editor.create_model(HeathCheckJob)
elif step == "write":
    HeathCheckJob.objects.create(name="CacheBackend", status=0, message="unavailable: Cache error")
elif step == "queries":
    print(json.dumps({
        "all": rows(HeathCheckJob.objects.all()),
        "failed": rows(HeathCheckJob.objects.filter(status=0)),
        "db": rows(HeathCheckJob.objects.filter(name="DatabaseBackend")),
        "recent": rows(HeathCheckJob.objects.filter(created_at__gte=timezone.now() - timedelta(hours=1))),
        "old": rows(HeathCheckJob.objects.filter(created_at__lt=timezone.now() - timedelta(hours=1))),
        "str": [str(r) == str(r.id) for r in HeathCheckJob.objects.all()],
    }))
else:
    sys.exit("unknown step " + step)
