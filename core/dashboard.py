"""What waits for a staff member: the counts on the admin's landing page.

Core knows no domain app: each app registers its counters (`waiting_register`, from its
AppConfig.ready). A counter takes the user and answers a `Waiting` (a label, a count from one of
the app's selectors and the filtered list it links to), or None when the user may not see that
work; it reads the permissions first, so a card the user may not see costs no query. The page
makes one counting query per card it shows, however many rows wait.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Waiting:
    label: str
    count: int
    url: str = ""  # the filtered list; empty when the user may count but not list them


Counter = Callable[[object], Waiting | None]

_counters: dict[str, Counter] = {}


def waiting_register(key: str, counter: Counter) -> None:
    """Register (or replace) the counter named `key`; cards show in the order registered."""
    _counters[key] = counter


def waiting_for(user) -> list[Waiting]:
    """The cards of `user`: each registered counter that answers for them."""
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False)):
        return []
    return [card for counter in _counters.values() if (card := counter(user)) is not None]
