"""The steps of `manage.py seed_demo`, and the run of them. Each app adds its own with `@seed_step`;
and the sections `manage.py demo_logins` prints, each app its own with `@demo_logins_section`.

An app registers steps in its `<app>/seed.py` (or `<app>/seed/__init__.py`), which `seed_run`
imports for every installed app (`autodiscover_modules("seed")`, which also finds this module as
core's). A step runs once: it is skipped when its `done` check says its demo data already exists,
so `seed_demo` can run at every `make run`. Steps run in `order`; `--reset` undoes them in reverse
order first. Each step draws from its own random stream, `ctx.rng(name)`, so adding a step never
changes the data of the others.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.module_loading import autodiscover_modules


def refuse_outside_development(command: str) -> None:
    """The demo commands make known passwords and print live API keys: with DEBUG off (production,
    or anything reachable), they refuse before touching the database."""
    if not settings.DEBUG:
        raise CommandError(
            f"{command} is for development only: it creates accounts with known passwords and prints live API "
            "keys. DEBUG is off, so it refuses (set DEBUG=1 on a development machine)."
        )


@dataclass
class SeedContext:
    seed: int = 1
    members: int = 2000
    progress: bool = True
    log: Callable[[str], None] = print
    # A named demo scenario (`seed_demo --scenario jiangshan`); its steps run only when it is asked for.
    scenario: str = ""
    # Steps may leave things here for later steps of the same run.
    shared: dict = field(default_factory=dict)

    def rng(self, stream: str) -> random.Random:
        """A random stream that depends only on the seed and the stream's name."""
        return random.Random(f"{self.seed}:{stream}")


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    run: Callable[[SeedContext], None]
    done: Callable[[SeedContext], bool]
    reset: Callable[[SeedContext], None] | None = None


_STEPS: dict[str, Step] = {}


def seed_step(
    name: str,
    *,
    order: int,
    done: Callable[[SeedContext], bool],
    reset: Callable[[SeedContext], None] | None = None,
):
    """Register the decorated function as the seed step `name` (e.g. "vouchers.campaigns")."""

    def decorator(func: Callable[[SeedContext], None]):
        _STEPS[name] = Step(name=name, order=order, run=func, done=done, reset=reset)
        return func

    return decorator


def registered_steps() -> list[Step]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def seed_run(ctx: SeedContext, *, reset: bool = False) -> list[str]:
    """Run every registered step that has not run yet (all of them after `reset`); return their names."""
    autodiscover_modules("seed")
    steps = registered_steps()
    if reset:
        for step in reversed(steps):
            if step.reset is not None:
                step.reset(ctx)
    ran = []
    for step in steps:
        if step.done(ctx):
            continue
        ctx.log(f"Seeding {step.name} …")
        step.run(ctx)
        ran.append(step.name)
    return ran


# --- What `manage.py demo_logins` prints ------------------------------------------------------


@dataclass(frozen=True)
class LoginsSection:
    name: str
    order: int
    lines: Callable[[str], list[str]]


_SECTIONS: dict[str, LoginsSection] = {}


def demo_logins_section(name: str, *, order: int):
    """Register the decorated function as the section `name` of `manage.py demo_logins`: given the
    portal's base URL, it returns the lines telling how to log in to the app's demo data (an empty
    list while there is none). Registered, like seed steps, in the app's `<app>/seed.py`."""

    def decorator(func: Callable[[str], list[str]]):
        _SECTIONS[name] = LoginsSection(name=name, order=order, lines=func)
        return func

    return decorator


def demo_logins_lines(base_url: str) -> list[str]:
    """Every app's demo-login lines, in section order, each section after a blank line."""
    autodiscover_modules("seed")
    out = []
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name)):
        lines = section.lines(base_url)
        if lines:
            out += ["", *lines]
    return out
