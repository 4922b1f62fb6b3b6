"""Demo data for `manage.py seed_demo`: deterministic, realistic, idempotent.

Each app adds steps with `members.seed.seed_step` in its own `<app>/seed.py`; see `registry`.
"""

from django.utils.module_loading import autodiscover_modules

from members.seed.registry import SeedContext, Step, registered_steps, seed_step

__all__ = ["SeedContext", "Step", "seed_run", "seed_step"]


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


# The members app's own steps register themselves on import.
from members.seed import demo  # noqa: E402, F401
