"""A paginator for the admin's largest tables: no COUNT(*) over hundreds of thousands of rows.

On PostgreSQL an unfiltered list uses the planner's row estimate (pg_class.reltuples);
a filtered list counts at most CAP rows. Elsewhere it counts, capped the same way.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

CAP = 10_000


class LargeTablePaginator(Paginator):
    @cached_property
    def count(self):
        qs = self.object_list
        if not hasattr(qs, "query"):
            return len(qs)
        if not qs.query.where and connections[qs.db].vendor == "postgresql":
            with connections[qs.db].cursor() as cur:
                cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [qs.model._meta.db_table])
                row = cur.fetchone()
            if row and row[0] > CAP:
                return int(row[0])
        return qs.order_by()[: CAP + 1].count()
