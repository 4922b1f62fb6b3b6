""" "我的数据": what the portal holds on a worker, section by section (PIPL arts. 44–45).

core depends on no domain app: each app contributes its sections from its own `<app>/mydata.py`,
found with `autodiscover_modules("mydata")` and registered with `@mydata_section(key, order=…)`.
A section builder takes the logged-in user and returns a `Section` (or None when the app holds
nothing on them). It only reads.

A section carries what the page shows (`rows`, `tables`; ID numbers masked) and what the download
carries (`export`: JSON-able, the person's own data in full, ID number included). Apps leave out
what the right of access does not cover (staff's case notes), and say so in `note`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    empty: str = ""


@dataclass
class Section:
    key: str
    title: str
    rows: list[tuple[str, Any]] = field(default_factory=list)  # (label, value) shown on the page
    tables: list[Table] = field(default_factory=list)
    export: dict = field(default_factory=dict)  # the download's part for this section
    note: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, URL): where to act on it


@dataclass(frozen=True)
class _Builder:
    key: str
    order: int
    build: Callable[[Any], Section | None]


_builders: dict[str, _Builder] = {}
_discovered = False


def mydata_section(key: str, *, order: int):
    """Register a section builder (decorator). A key registered twice keeps the last one."""

    def decorator(func: Callable[[Any], Section | None]):
        _builders[key] = _Builder(key=key, order=order, build=func)
        return func

    return decorator


def registered_sections() -> list[str]:
    global _discovered
    if not _discovered:
        autodiscover_modules("mydata")
        _discovered = True
    return [b.key for b in sorted(_builders.values(), key=lambda b: (b.order, b.key))]


def mydata_sections(user) -> list[Section]:
    """Every section that holds something on `user`, in order."""
    sections = []
    for key in registered_sections():
        section = _builders[key].build(user)
        if section is not None:
            sections.append(section)
    return sections


def mydata_export(user, *, generated_at: str) -> dict:
    """The download: every section's export, keyed by section."""
    return {
        "generated_at": generated_at,
        "sections": {s.key: {"title": str(s.title), **s.export} for s in mydata_sections(user)},
    }
