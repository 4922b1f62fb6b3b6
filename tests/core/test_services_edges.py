"""Core services at their edges."""

from core.models import ApiKey, AuditEntry
from core.services import api_key_create, api_key_revoke


def test_revoking_a_revoked_key_keeps_its_first_revocation(agency, staff):
    key, _secret = api_key_create(agency=agency, scopes=["members:verify"])
    first = api_key_revoke(key=key, actor=staff).revoked_at
    api_key_revoke(key=ApiKey.objects.get(pk=key.pk), actor=staff)
    assert ApiKey.objects.get(pk=key.pk).revoked_at == first
    assert AuditEntry.objects.filter(action="core.api_key.revoked", object_id=str(key.pk)).count() == 1
