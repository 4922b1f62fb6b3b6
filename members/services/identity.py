"""A person's identity numbers: the blind index that finds an ID number, and the member number."""

from core.crypto import blind_index
from core.parsing import id_number_normalize


def id_number_index(number: str) -> str:
    # On the normalised number: a fullwidth copy of an ID number finds the same person.
    return blind_index(id_number_normalize(number), purpose="id_number")


def member_number(pk: int) -> str:
    """A member number that never changes: the city prefix and the row id, zero-padded."""
    return f"HZ{pk:010d}"
