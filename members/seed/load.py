"""Writing the generated demo data: bulk_create for the tree, COPY for members on PostgreSQL.

Members get explicit ids so that their member numbers (`member_number(pk)`) are written in
the same pass; on PostgreSQL the id sequence is moved past them afterwards.
"""

import io
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.management.color import no_style
from django.db import connections
from django.db.models import Max
from tqdm import tqdm

from core.crypto import id_number_index
from members.models import Enterprise, Member, MutualAidEnrolment, Station, Union
from members.seed.generate import MUTUAL_AID_YEAR, MemberSpec, Tree
from members.services import member_number
from members.validators import mask_id_number

BATCH = 10_000


def insert_tree(tree: Tree, *, using: str = "default") -> dict:
    """Create the unions (level by level), enterprises and stations; return their ids by key."""
    union_ids: dict[str, int] = {}
    paths: dict[str, str] = {}
    levels: dict[int, list] = {}
    depth: dict[str, int] = {}
    for u in tree.unions:
        depth[u.code] = depth[u.parent] + 1 if u.parent else 0
        paths[u.code] = (paths[u.parent] if u.parent else "") + u.code + "/"
        levels.setdefault(depth[u.code], []).append(u)
    for level in sorted(levels):
        specs = levels[level]
        Union.objects.using(using).bulk_create(
            [
                Union(
                    code=u.code,
                    name=u.name,
                    kind=u.kind,
                    parent_id=union_ids[u.parent] if u.parent else None,
                    path=paths[u.code],
                    address=u.address,
                )
                for u in specs
            ],
            batch_size=500,
        )
        union_ids.update(Union.objects.using(using).filter(code__in=[u.code for u in specs]).values_list("code", "id"))

    Enterprise.objects.using(using).bulk_create(
        [
            Enterprise(
                name=e.name,
                credit_code=e.credit_code,
                union_id=union_ids[e.union],
                address=e.address,
                industry=e.industry,
            )
            for e in tree.enterprises
        ],
        batch_size=500,
    )
    by_code = dict(
        Enterprise.objects.using(using)
        .filter(credit_code__in=[e.credit_code for e in tree.enterprises])
        .values_list("credit_code", "id")
    )
    enterprise_ids = [by_code[e.credit_code] for e in tree.enterprises]

    Station.objects.using(using).bulk_create(
        [
            Station(
                code=s.code,
                name=s.name,
                union_id=union_ids[s.union],
                address=s.address,
                hours=s.hours,
                latitude=Decimal(s.latitude),
                longitude=Decimal(s.longitude),
            )
            for s in tree.stations
        ],
        batch_size=500,
    )
    station_ids = dict(
        Station.objects.using(using).filter(code__in=[s.code for s in tree.stations]).values_list("code", "id")
    )
    return {"unions": union_ids, "enterprises": enterprise_ids, "stations": station_ids}


def insert_members(
    specs: Iterable[MemberSpec], *, total: int, ids: dict, progress: bool, using: str = "default"
) -> int:
    """Insert members and their mutual-aid enrolments in batches; return the number inserted."""
    connection = connections[using]
    first_id = (Member.objects.using(using).aggregate(m=Max("id"))["m"] or 0) + 1
    writer = _copy_batch if connection.vendor == "postgresql" else _orm_batch
    bar = tqdm(total=total, unit=" members", disable=not progress, mininterval=0.5)
    version = settings.PRIVACY_POLICY_VERSION
    union_ids, enterprise_ids, station_ids = ids["unions"], ids["enterprises"], ids["stations"]
    batch: list[dict] = []
    pk = first_id
    for spec in specs:
        batch.append(
            {
                "id": pk,
                "name": spec.name,
                "id_number": spec.id_number,  # clear here; encrypted by the field or by _copy_batch
                "id_index": id_number_index(spec.id_number),
                "id_masked": mask_id_number(spec.id_number),
                "user_id": None,
                "gender": spec.gender,
                "birth_date": spec.birth_date,
                "mobile": spec.mobile,
                "employer_id": enterprise_ids[spec.employer] if spec.employer is not None else None,
                "union_id": union_ids[spec.union],
                "employment_form": spec.employment_form,
                "join_channel": spec.join_channel,
                "station_id": station_ids[spec.station] if spec.station else None,
                "member_no": member_number(pk),
                "joined_on": spec.joined_on,
                "status": spec.status,
                "privacy_version": version,
                "privacy_consented_at": spec.consented_at,
                "created_at": spec.consented_at,
                # not a column: the enrolment for MutualAidEnrolment
                "_aid": spec.mutual_aid_at,
            }
        )
        pk += 1
        if len(batch) >= BATCH:
            writer(connection, batch)
            bar.update(len(batch))
            batch = []
    if batch:
        writer(connection, batch)
        bar.update(len(batch))
    bar.close()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Member]):
                cur.execute(sql)
    return pk - first_id


def _orm_batch(connection, rows: list[dict]) -> None:
    members, enrolments = [], []
    for row in rows:
        aid = row.pop("_aid")
        members.append(Member(**row))
        if aid is not None:
            enrolments.append(
                MutualAidEnrolment(member_id=row["id"], year=MUTUAL_AID_YEAR, union_id=row["union_id"], enrolled_at=aid)
            )
    Member.objects.using(connection.alias).bulk_create(members, batch_size=1000)
    MutualAidEnrolment.objects.using(connection.alias).bulk_create(enrolments, batch_size=2000)


MEMBER_COLUMNS = [
    "id", "name", "id_number", "id_index", "id_masked", "user_id", "gender", "birth_date", "mobile", "employer_id",
    "union_id", "employment_form", "join_channel", "station_id", "member_no", "joined_on", "status",
    "privacy_version", "privacy_consented_at", "created_at",
]  # fmt: skip


def _text(value) -> str:
    """A value in COPY's text format. Demo values never contain tabs, newlines or backslashes."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _copy_batch(connection, rows: list[dict]) -> None:
    encrypt = Member._meta.get_field("id_number").get_prep_value
    members = io.StringIO()
    enrolments = io.StringIO()
    for row in rows:
        row["id_number"] = encrypt(row["id_number"])
        members.write("\t".join([_text(row[c]) for c in MEMBER_COLUMNS]))
        members.write("\n")
        if row["_aid"] is not None:
            enrolments.write(f"{row['id']}\t{MUTUAL_AID_YEAR}\t{row['union_id']}\t{row['_aid'].isoformat()}\n")
    members.seek(0)
    enrolments.seek(0)
    member_table = connection.ops.quote_name(Member._meta.db_table)
    aid_table = connection.ops.quote_name(MutualAidEnrolment._meta.db_table)
    with connection.cursor() as cur:
        cur.copy_expert(f"COPY {member_table} ({', '.join(MEMBER_COLUMNS)}) FROM STDIN", members)
        cur.copy_expert(f"COPY {aid_table} (member_id, year, union_id, enrolled_at) FROM STDIN", enrolments)


def check_member_columns() -> None:
    """Fail loudly when the model gains a column the COPY path does not write."""
    columns = {f.column for f in Member._meta.concrete_fields}
    missing = columns - set(MEMBER_COLUMNS)
    if missing:
        raise RuntimeError(f"seed_demo's COPY of members does not write {sorted(missing)}: update MEMBER_COLUMNS")
