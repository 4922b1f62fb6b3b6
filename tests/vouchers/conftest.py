"""Shared voucher fixtures (additive edits only)."""
