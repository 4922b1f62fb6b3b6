import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from hardship.cycle.run import cycle_run
from hardship.models import CycleRun
from hardship.periods import previous_month


class Command(BaseCommand):
    help = (
        "Run (or resume) the monthly hardship cycle of a period in this process — ingest, match, screen, "
        "roster, notify, publish — and print each step's figures. Steps already done are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--period", default="", help="a month (2025-03) or a quarter (2025-Q1); default: last month"
        )
        parser.add_argument("--restart", action="store_true", help="run every step again, even if the cycle is done")

    def handle(self, *args, period, restart, **options):
        period = period or previous_month()
        try:
            run = cycle_run(period=period, restart=restart)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        except Exception as exc:
            failed = CycleRun.objects.filter(period=period).first()  # none if it failed before the run was made
            if failed is not None:
                self._print(failed)
            raise CommandError(f"The cycle of {period} failed: {type(exc).__name__}: {exc}") from exc
        if run.skipped == "busy":
            raise CommandError(f"The cycle of {period} is being run by another worker ({run.worker}); try later.")
        if run.skipped == "done":
            self.stdout.write(f"The cycle of {period} was already done; --restart runs it again.")
        self._print(run)

    def _print(self, run: CycleRun) -> None:
        self.stdout.write(f"Cycle {run.period}: {run.state} (run {run.runs} time(s))")
        for name in CycleRun.STEPS:
            info = run.steps.get(name, {})
            figures = json.dumps(info.get("figures", {}), ensure_ascii=False, sort_keys=True)
            seconds = f"{info['seconds']:.1f}s" if "seconds" in info else "-"
            self.stdout.write(f"  {name:<8} {info.get('state', 'pending'):<8} {seconds:>8}  {figures}")
            if info.get("error"):
                self.stdout.write(f"           error: {info['error']}")
