from django.db import models


class HeathCheckJob(models.Model):
    """The spec's record of one check's result, table and fields as they are."""

    name = models.CharField(max_length=50)
    status = models.IntegerField()
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return str(self.id)
