import datetime as dt
import random

import factory
from django.utils import timezone

from core.crypto import id_number_index
from core.models import Agency
from members.idgen import make_credit_code, make_id_number
from members.models import Enterprise, Member, Station, Union, User
from members.services import member_number
from members.validators import mask_id_number, parse_id_number

_rng = random.Random(20261129)


def id_number(**kwargs) -> str:
    return make_id_number(_rng, **kwargs)


class UnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Union

    name = factory.Sequence(lambda n: f"第{n}基层工会")
    kind = Union.Kind.GRASSROOTS
    code = factory.Sequence(lambda n: f"U{n:05d}")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"湖州第{n}纺织有限公司")
    credit_code = factory.LazyFunction(lambda: make_credit_code(_rng))


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station

    code = factory.Sequence(lambda n: f"st{n:04d}")
    name = factory.Sequence(lambda n: f"爱心驿站{n}号")
    union = factory.SubFactory(UnionFactory)
    address = "湖州市吴兴区人民路1号"
    hours = "09:00-18:00"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-42")


class StaffFactory(UserFactory):
    is_staff = True
    username = factory.Sequence(lambda n: f"staff{n}")

    @factory.post_generation
    def grant(obj, create, extracted, **kwargs):
        from django.contrib.auth.models import Permission

        if create:
            obj.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["members", "core"]))


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    class Params:
        raw_id = factory.LazyFunction(id_number)

    name = factory.Iterator(["张伟", "王芳", "李娜", "刘洋", "陈静", "周建新"])
    id_number = factory.SelfAttribute("raw_id")
    id_index = factory.LazyAttribute(lambda o: id_number_index(o.raw_id))
    id_masked = factory.LazyAttribute(lambda o: mask_id_number(o.raw_id))
    gender = factory.LazyAttribute(lambda o: parse_id_number(o.raw_id).gender)
    birth_date = factory.LazyAttribute(lambda o: parse_id_number(o.raw_id).birth_date)
    # Far above the numbers fixtures and tests write out (139 0000 00xx), so a generated member
    # never takes a fixture's mobile whatever tests run first.
    mobile = factory.Sequence(lambda n: f"139{50_000_000 + n:08d}")
    union = factory.SubFactory(UnionFactory)
    join_channel = "online"
    privacy_version = "2026-01"
    privacy_consented_at = factory.LazyFunction(timezone.now)
    joined_on = factory.LazyFunction(lambda: dt.date(2025, 3, 1))

    @factory.post_generation
    def number(obj, create, extracted, **kwargs):
        if create and not obj.member_no:
            obj.member_no = member_number(obj.pk)
            obj.save(update_fields=["member_no"])


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = "mca"
    name = "民政局"
