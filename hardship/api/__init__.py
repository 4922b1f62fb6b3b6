"""The hardship API for partner agencies: their monthly pushes (`pushes`), the outbound data of the
cases about their rows (`outbound`) and the referrals sent to them (`referrals`). `api_urls` routes them."""
