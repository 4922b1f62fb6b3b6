"""Paginators: the admin's largest tables, and the API's cursor-paginated lists.

- `LargeTablePaginator` (admin): no COUNT(*) over hundreds of thousands of rows. On PostgreSQL an
  unfiltered list uses the planner's row estimate (pg_class.reltuples); a filtered list counts at
  most CAP rows. Elsewhere it counts, capped the same way.
- `CursorPagination` (API): DRF's cursor pagination, refusing a cursor it did not make (undecodable,
  or a position that is not a value of the ordering field) with 400 `bad_cursor` instead of DRF's
  404 or a server error when the tampered position reaches the query.
"""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination

from core.errors import ServiceError

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


def bad_cursor() -> ServiceError:
    return ServiceError("bad_cursor", _("This cursor is not one this list gave: start again without it."))


class CursorPagination(pagination.CursorPagination):
    """Every cursor-paginated list of the API: `?cursor=` from the list's own `next`/`previous`,
    `?page_size=` up to 200. A view sets `ordering` (a single field)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise bad_cursor() from None
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        """The position goes into `WHERE field > position`: it must be a value of that field
        (an id within the column's range), or the query would fail."""
        name = self.ordering[0].lstrip("-")
        try:
            field = self._model._meta.get_field(name)
        except FieldDoesNotExist:
            return
        try:
            field.clean(position, None)
        except ValidationError:
            raise bad_cursor() from None
