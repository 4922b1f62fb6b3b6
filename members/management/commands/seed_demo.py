from django.core.management.base import BaseCommand, CommandError

from core.seed import SeedContext, refuse_outside_development, seed_run


class Command(BaseCommand):
    help = (
        "Load the demo data (a Huzhou-like union tree, 506 stations, enterprises, members, demo logins). "
        "Deterministic for a given --seed; does nothing when the demo data is already present."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000, help="number of members (default 2000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--reset", action="store_true", help="delete the demo data first")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--scenario",
            choices=["jiangshan"],
            default="",
            help="also build a scenario: jiangshan = a county union and a year of hardship data run through the cycle",
        )

    def handle(self, *args, members, seed, reset, no_progress, verbosity, scenario="", **options):
        refuse_outside_development("seed_demo")
        if members < 1:
            raise CommandError("--members must be at least 1")
        ctx = SeedContext(
            seed=seed,
            members=members,
            progress=verbosity >= 1 and not no_progress,
            log=(lambda msg: self.stdout.write(msg)) if verbosity >= 1 else (lambda msg: None),
            scenario=scenario,
        )
        ran = seed_run(ctx, reset=reset)
        if not ran:
            self.stdout.write("demo data already present")
        else:
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded ({', '.join(ran)})."))
