"""A member's number (the blind index of an ID number is `core.crypto.id_number_index`)."""


def member_number(pk: int) -> str:
    """A member number that never changes: the city prefix and the row id, zero-padded."""
    return f"HZ{pk:010d}"
