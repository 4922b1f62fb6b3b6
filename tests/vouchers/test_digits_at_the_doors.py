"""A claim's address with a campaign id in other digits ("²", "①", "٣") or too many digits is no
campaign: the sold-out middleware, which reads the id before the URL resolver does, reads only what
the URL's own converter reads (``\\d`` took "٣" as campaign 3, and int() fails past 4,300 digits),
and lets the rest through to the resolver's 404."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["²", "①", "٣", "1²", "9" * 5000])
def test_a_claim_for_a_campaign_id_in_other_digits_is_not_found(client, value):
    assert client.post(f"/vouchers/{value}/claim/").status_code == 404
