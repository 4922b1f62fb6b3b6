"""Shared hardship fixtures (additive edits only)."""
