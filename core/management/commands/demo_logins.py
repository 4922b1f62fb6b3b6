from django.core.management.base import BaseCommand

from core.seed import demo_logins_lines, refuse_outside_development

BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Print the demo logins (development only): each app's demo accounts and fresh API keys "
        "(the sections the apps register in core.seed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=BASE_URL)

    def handle(self, *args, base_url, **options):
        refuse_outside_development("demo_logins")
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
