from django.core.management.base import BaseCommand, CommandError

from vouchers.models import Campaign
from vouchers.selectors.campaigns import VISIBLE_STATES
from vouchers.services import reconcile_campaign


class Command(BaseCommand):
    help = (
        "Rebuild the claim stock in Redis (stock, per-member counts, sold-out flag) from the database, "
        "the source of truth, and report what differed. Run it after a Redis restart or flush."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help="one campaign id (default: every scheduled or open campaign)")

    def handle(self, *args, campaign=None, **options):
        if campaign is not None:
            if not Campaign.objects.filter(pk=campaign).exists():
                raise CommandError(f"no campaign {campaign}")
            ids = [campaign]
        else:
            ids = list(Campaign.objects.filter(state__in=VISIBLE_STATES).values_list("pk", flat=True))
        for cid in ids:
            report = reconcile_campaign(campaign_id=cid)
            differences = report["differences"] or ["no differences"]
            self.stdout.write(
                f"campaign {cid}: remaining {report['remaining']}, vouchers {report['vouchers']}, "
                f"redis {'rebuilt' if report['redis'] else 'not configured'}; " + "; ".join(differences)
            )
