import os

from django.core.management.base import BaseCommand

from core.seed import demo_logins_lines, refuse_outside_development


def default_base_url() -> str:
    """The address `make run` serves: http://127.0.0.1:$PORT (PORT as the Makefile has it, 8000
    by default); `make run` also passes it with --base-url."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"


class Command(BaseCommand):
    help = (
        "Print the demo logins (development only): each app's demo accounts and fresh API keys "
        "(the sections the apps register in core.seed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", help="The address the server runs on (default: http://127.0.0.1:$PORT, PORT 8000 if unset)."
        )

    def handle(self, *args, base_url, **options):
        refuse_outside_development("demo_logins")
        base_url = (base_url or default_base_url()).rstrip("/")
        out = [
            "",
            "=" * 72,
            "  Demo logins (development data only — never use these anywhere else)",
            "=" * 72,
            f"  Portal: {base_url}",
            *demo_logins_lines(base_url),
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(out))
