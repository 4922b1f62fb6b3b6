"""The city-wide hardship settings row: the second-approval threshold and the largest document."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.parsing import int_parse, money_parse
from core.services import audit_log
from hardship.models import HardshipSettings
from hardship.selectors.access import can_change_hardship_settings, can_change_second_approval


def settings_values_check(*, second_approval_above=None, document_max_bytes=None) -> dict:
    """The settings asked for, checked (`None` leaves a setting out): the threshold is an amount of
    money, zero or more; the largest document is at least one byte. A refusal names its field
    (`details["field"]`), for a form to show it there."""
    wanted: dict = {}
    if second_approval_above is not None:
        try:
            wanted["second_approval_above"] = money_parse(
                second_approval_above, allow_zero=True, label=_("Second-approval threshold")
            )
        except ServiceError as exc:
            raise ServiceError(exc.code, exc.message, field="second_approval_above") from None
    if document_max_bytes is not None:
        try:
            wanted["document_max_bytes"] = int_parse(document_max_bytes, minimum=1)  # ASCII or fullwidth only
        except ServiceError:
            raise ServiceError(
                "bad_size", _("The largest document must be at least one byte."), field="document_max_bytes"
            ) from None
    return wanted


def settings_change(*, actor, second_approval_above=None, document_max_bytes=None) -> HardshipSettings:
    """Change the city-wide settings row. Only city-level staff with `change_hardshipsettings` may
    change it at all, and the second-approval threshold also needs `change_second_approval`
    (`hardship.selectors.can_change_second_approval`). `None` leaves a setting as it is. Every
    change is audited (`hardship.settings.changed`) with the old and the new values."""
    if not can_change_hardship_settings(actor):
        raise ServiceError(
            "forbidden", _("Only city-level hardship staff may change the hardship settings."), kind=ErrorKind.FORBIDDEN
        )
    wanted = settings_values_check(second_approval_above=second_approval_above, document_max_bytes=document_max_bytes)
    with transaction.atomic():
        row = HardshipSettings.objects.select_for_update().get(pk=HardshipSettings.get().pk)
        changed = [name for name, value in wanted.items() if getattr(row, name) != value]
        if "second_approval_above" in changed and not can_change_second_approval(actor):
            raise ServiceError(
                "forbidden",
                _("Only city-level staff with the permission to do so may change the second-approval threshold."),
                kind=ErrorKind.FORBIDDEN,
            )
        if not changed:
            return row
        old = {name: str(getattr(row, name)) for name in changed}
        for name in changed:
            setattr(row, name, wanted[name])
        row.save(update_fields=changed)
        audit_log(
            action="hardship.settings.changed",
            obj=row,
            actor=actor,
            old=old,
            new={name: str(getattr(row, name)) for name in changed},
        )
    return row
