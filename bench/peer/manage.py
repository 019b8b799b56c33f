#!/usr/bin/python3
"""The Django project of the bench's Python peer: django-health-check's
plugins run in a loop like django-health-check-job's monitor."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchpeer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
