"""Forms of the worker's mobile pages. They parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.parsing import MOBILE_RE, normalize_digits
from members.models import CorrectionRequest, EmploymentForm
from members.selectors import unions_joinable
from members.validators import normalize_mobile, parse_id_number, validate_mobile


class IdNumberInput(forms.TextInput):
    """The ID number box. After a form error it keeps what the worker typed (18 characters are
    not typed twice on a phone): the page that carries it is the answer to their own POST, sent
    with Cache-Control: no-store (the join view is never_cache), and the number is never put in
    a page otherwise (never from the database: initial values are empty).

    The keyboard: an ID number is 17 digits and a last character that is a digit or X. Served as
    inputmode="text" (every keyboard can type the X), js/portal.js switches it to the numeric
    keypad and shows the "X" key beside the box (data-id-number), as Chinese apps' ID keyboards do.
    """

    def __init__(self, attrs=None):
        super().__init__(
            {
                "inputmode": "text",
                "autocapitalize": "characters",
                "autocomplete": "off",
                "spellcheck": "false",
                "data-id-number": "",
                "pattern": "[0-9０-９]{17}[0-9０-９XxＸｘ]",
                **(attrs or {}),
            }
        )


class MobileField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 11)
        kwargs.setdefault("error_messages", {"required": _("Please enter your mobile number.")})
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "tel", "pattern": MOBILE_RE.pattern})

    def to_python(self, value):
        # Fullwidth digits (１３９…) become ASCII before the length and format checks.
        return normalize_mobile(super().to_python(value))

    def clean(self, value):
        value = super().clean(value)
        if value:
            validate_mobile(value)
        return value


class SmsCodeField(forms.RegexField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("SMS code"))
        kwargs.setdefault("max_length", 6)
        kwargs.setdefault(
            "error_messages",
            {"required": _("Please enter the 6-digit code."), "invalid": _("The code has 6 digits.")},
        )
        super().__init__(regex=r"^[0-9]{6}$", **kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"})

    def to_python(self, value):
        return normalize_digits(super().to_python(value))


class WeuiFormMixin:
    """Give the widgets WeUI's classes."""

    def style_widgets(self):
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "weui-select")
            elif isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("class", "weui-textarea")
            elif isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "check")
            else:
                widget.attrs.setdefault("class", "weui-input")


class LoginForm(WeuiFormMixin, forms.Form):
    mobile = MobileField()
    sms_code = SmsCodeField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_widgets()


class ApplicationForm(WeuiFormMixin, forms.Form):
    """The join form. Anonymous visitors also prove their mobile number with an SMS code."""

    name = forms.CharField(
        label=_("Real name"), max_length=50, error_messages={"required": _("Please enter your real name.")}
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        min_length=18,
        widget=IdNumberInput,
        error_messages={
            "required": _("Please enter your ID number."),
            "min_length": _("An ID number has 18 characters: 17 digits and a digit or X."),
        },
    )
    mobile = MobileField()
    sms_code = SmsCodeField()
    union = forms.ModelChoiceField(
        label=_("Grassroots union"),
        queryset=unions_joinable(),
        error_messages={
            "required": _("Choose the union you want to join."),
            "invalid_choice": _("Choose a grassroots or joint union to join."),
        },
    )
    employer_name = forms.CharField(label=_("Employer"), max_length=150, required=False)
    employment_form = forms.ChoiceField(
        label=_("Form of employment"), choices=EmploymentForm.choices, initial=EmploymentForm.EMPLOYEE
    )
    privacy_consent = forms.BooleanField(
        label=_("I have read and accept the privacy policy."),
        error_messages={"required": _("Please read and accept the privacy policy.")},
    )

    def __init__(self, *args, anonymous: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.anonymous = anonymous
        if not anonymous:
            # A logged-in worker applies with the mobile number they logged in with.
            del self.fields["mobile"]
            del self.fields["sms_code"]
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})
        self.style_widgets()

    def clean_id_number(self):
        # Checked here as well as in the service so that a typo does not use up the SMS code.
        try:
            return parse_id_number(self.cleaned_data["id_number"]).number
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


class TransferForm(WeuiFormMixin, forms.Form):
    to_union = forms.ModelChoiceField(
        label=_("New grassroots union"),
        queryset=unions_joinable(),
        error_messages={
            "required": _("Choose the union you want to join."),
            "invalid_choice": _("Choose a grassroots or joint union to join."),
        },
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_widgets()


class CorrectionForm(WeuiFormMixin, forms.Form):
    field = forms.ChoiceField(
        label=_("Detail to correct"),
        choices=CorrectionRequest.Field.choices,
        error_messages={"required": _("Choose the detail to correct.")},
    )
    problem = forms.CharField(
        label=_("What is wrong"),
        max_length=300,
        widget=forms.Textarea({"rows": 3}),
        error_messages={"required": _("Say what is wrong.")},
    )
    proposed = forms.CharField(label=_("Correct value"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposed"].widget.attrs.update({"autocomplete": "off"})
        self.style_widgets()


def first_error(form: forms.Form) -> str:
    """The first error message of a form, for the page's error banner."""
    for errors in form.errors.values():
        for message in errors:
            return message
    return ""
