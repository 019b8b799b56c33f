"""A tiny Celery app for checks/celery's tests.

It registers the task django-health-check sends and one that answers
wrongly. The broker, the result backend and the Redis key prefix come from
the environment, as the tests start each worker with its own.
"""

import os

from celery import Celery

app = Celery(
    "hjapp",
    broker=os.environ["CELERY_BROKER_URL"],
    backend=os.environ.get("CELERY_RESULT_BACKEND") or None,
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
if os.environ.get("CELERY_KEY_PREFIX"):
    app.conf.broker_transport_options = {"global_keyprefix": os.environ["CELERY_KEY_PREFIX"]}


@app.task(name="health_check.contrib.celery.tasks.add")
def add(x, y):
    return x + y


@app.task(name="healthjob.tests.wrong_add")
def wrong_add(x, y):
    return x + y + 1
