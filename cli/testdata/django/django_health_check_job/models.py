# The HeathCheckJob model exactly as the spec describes it.
from django.db import models


class HeathCheckJob(models.Model):
    name = models.CharField(max_length=50)
    status = models.IntegerField()
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return str(self.id)
