"""The monthly cycle's runs, one per period."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CycleRun(models.Model):
    """The monthly cycle for one period: its steps, their state and figures.

    Each step commits on its own and records itself here; a rerun skips the steps already
    done and redoes the one that was interrupted (every step is idempotent).
    """

    STEPS = ("ingest", "match", "screen", "roster", "notify", "publish")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.CharField(_("period"), max_length=7, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    steps = models.JSONField(_("steps"), default=dict, blank=True)  # {"ingest": {"state": "done", "figures": {...}}}
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    runs = models.PositiveIntegerField(_("times run"), default=0)
    # The claim: who runs it now and when it last showed life (a stale claim is taken over).
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    # When the outbound data for the agencies was published (GET /api/v1/hardship/outbound).
    published_at = models.DateTimeField(_("outbound data published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly cycle")
        verbose_name_plural = _("monthly cycles")
        ordering = ["-period"]

    def __str__(self):
        return self.period
