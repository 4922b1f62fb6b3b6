"""The staff admin for membership, scoped by union (see core.admin_kit and members.admin_scope),
one module per part of the domain; importing the package registers every admin."""

from members.admin.applications import MembershipApplicationAdmin, TransferAdmin
from members.admin.members import MemberAdmin
from members.admin.mutual_aid import MutualAidEnrolmentAdmin
from members.admin.organisations import EnterpriseAdmin, MemberUnionSubtreeFilter, StationAdmin, UnionAdmin
from members.admin.rights import ConsentAdmin, CorrectionRequestAdmin
from members.admin.users import UserAdmin

__all__ = [
    "ConsentAdmin",
    "CorrectionRequestAdmin",
    "EnterpriseAdmin",
    "MemberAdmin",
    "MemberUnionSubtreeFilter",
    "MembershipApplicationAdmin",
    "MutualAidEnrolmentAdmin",
    "StationAdmin",
    "TransferAdmin",
    "UnionAdmin",
    "UserAdmin",
]
