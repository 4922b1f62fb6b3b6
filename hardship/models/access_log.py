"""The access log of case files: who opened, exported or searched."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hardship.models.cases import Case


class AccessLog(models.Model):
    """Who opened or exported which case file, when. Append-only; nobody can edit it."""

    class Action(models.TextChoices):
        OPEN = "open", _("Opened")
        EXPORT = "export", _("Exported")
        SEARCH = "search", _("Searched")
        REVEAL = "reveal", _("Revealed the person's identity")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    case = models.ForeignKey(Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("case access")
        verbose_name_plural = _("case access log")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} {self.action} {self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("the access log is append-only")
