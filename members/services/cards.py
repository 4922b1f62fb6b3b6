"""The e-membership card's QR code: the signed token and its check (the check reads, and writes nothing;
it lives beside the token it undoes, for the card's salt and age are one rule)."""

from django.conf import settings
from django.core import signing

from members.models import Member

CARD_SALT = "members.card"


def member_card_token(member: Member) -> str:
    """A signed token for the card's QR code: it carries the member number, never the ID number."""
    return signing.dumps({"n": member.member_no}, salt=CARD_SALT, compress=True)


def member_card_verify(token: str) -> Member | None:
    """The member behind a card token, if it is genuine, recent and the member is active."""
    try:
        data = signing.loads(token, salt=CARD_SALT, max_age=settings.MEMBER_CARD_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return Member.objects.select_related("union").filter(member_no=data.get("n"), status=Member.Status.ACTIVE).first()
