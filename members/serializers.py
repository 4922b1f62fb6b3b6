"""Input and output serializers of the members API, one pair per operation (see members/api.py).

No serializer here ever carries a whole ID number: outputs use `id_masked` and `masked_name`.
"""

from rest_framework import serializers

from core.errors import ServiceError
from core.parsing import id_number_parse
from members.models import EmploymentForm, JoinChannel, Member, MembershipApplication


class UnionRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


# --- POST /api/v1/members/verify (agencies) ---------------------------------------------------


class VerifyInputSerializer(serializers.Serializer):
    id_number = serializers.CharField(
        max_length=32, help_text="An 18-character resident ID number (GB 11643). It is never echoed back."
    )

    def validate_id_number(self, value: str) -> str:
        try:
            # Any age: an agency may ask about anyone; only members (16 or over) will match.
            return id_number_parse(value)
        except ServiceError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


class VerifyOutputSerializer(serializers.Serializer):
    is_member = serializers.BooleanField(help_text="True only for a current (active) member.")
    status = serializers.ChoiceField(
        choices=Member.Status.choices, required=False, help_text="Always `active` when `is_member` is true."
    )
    member_no = serializers.CharField(required=False)
    union = UnionRefSerializer(required=False, help_text="The member's grassroots union.")
    joined_on = serializers.DateField(required=False)
    masked_name = serializers.CharField(
        required=False, help_text="The real name with all but its first character masked."
    )
    id_masked = serializers.CharField(required=False, help_text="The ID number with its birth date masked.")


# --- POST /api/v1/members/cards/verify (agencies, stations, merchants, staff) ------------------


class CardVerifyInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000, help_text="The text of the e-membership card's QR code.")


class CardVerifyOutputSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="True for a genuine, unexpired card of an active member.")
    member_no = serializers.CharField(required=False)
    masked_name = serializers.CharField(required=False)
    union = UnionRefSerializer(required=False)


# --- Staff: members ------------------------------------------------------------------------------


class MemberListOutputSerializer(serializers.Serializer):
    member_no = serializers.CharField()
    name = serializers.CharField()
    id_masked = serializers.CharField()
    gender = serializers.ChoiceField(choices=Member.Gender.choices)
    union = UnionRefSerializer()
    employment_form = serializers.ChoiceField(choices=EmploymentForm.choices)
    join_channel = serializers.ChoiceField(choices=JoinChannel.choices)
    status = serializers.ChoiceField(choices=Member.Status.choices)
    joined_on = serializers.DateField()


class EmployerRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    credit_code = serializers.CharField()


class StationRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MemberDetailOutputSerializer(MemberListOutputSerializer):
    birth_date = serializers.DateField()
    mobile = serializers.CharField()
    employer = EmployerRefSerializer(allow_null=True)
    station = StationRefSerializer(allow_null=True)
    privacy_version = serializers.CharField()
    privacy_consented_at = serializers.DateTimeField()


# --- Staff: membership applications -----------------------------------------------------------


class ApplicationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_masked = serializers.CharField()
    union = UnionRefSerializer()
    employer_name = serializers.CharField()
    employment_form = serializers.ChoiceField(choices=EmploymentForm.choices)
    channel = serializers.ChoiceField(choices=JoinChannel.choices)
    station = StationRefSerializer(allow_null=True)
    status = serializers.ChoiceField(choices=MembershipApplication.Status.choices)
    reject_reason = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    member_no = serializers.CharField(source="member.member_no", allow_null=True)


class ApplicationRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Shown to the applicant.")
