"""The staff admin for vouchers: merchants, templates, campaigns, vouchers, redemptions,
settlements, settings, figures and fraud signals.

Voucher staff are staff with `vouchers.*` permissions; a superuser has them all; staff without
them are refused (403). Merchants, templates, campaigns, settlements and the settings are the
whole city's: only city-level staff change them or run their actions (`CityWideSettingsMixin`);
other voucher staff see them read-only. Actions are doors to the services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core import xlsx
from core.admin_kit import (
    MAX_ACTION_ROWS,
    CityWideSettingsMixin,
    LargeTableMixin,
    OneVersionPerSaveMixin,
    ReadOnlyMixin,
    ReasonActionsMixin,
    ScopedHistoryMixin,
    ServiceActionsMixin,
)
from core.errors import ServiceError
from core.parsing import credit_code_parse
from core.sms import mask_mobile
from members.models import EmploymentForm
from vouchers import admin_views, selectors, services
from vouchers.models import (
    Campaign,
    CampaignTemplate,
    Merchant,
    MerchantApiKey,
    MerchantCategory,
    MerchantStaff,
    Redemption,
    RedemptionItem,
    Refund,
    Settlement,
    Voucher,
    VoucherSettings,
)

# --- Merchants --------------------------------------------------------------------------------


class MerchantStaffForm(forms.ModelForm):
    """A cashier is added by mobile number (the page the cashier is refused on says to ask for
    just that); the rules are the service's (merchant_staff_check), which saves the row."""

    mobile = forms.CharField(label=_("mobile"), max_length=20, required=False)

    class Meta:
        model = MerchantStaff
        fields = ()

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        if self.instance.pk:
            self.fields["mobile"].initial = mask_mobile(self.instance.user.mobile or "")
            self.fields["mobile"].disabled = True

    def clean_mobile(self):
        if self.instance.pk:
            return ""
        try:
            return services.merchant_staff_check(merchant=self.merchant, mobile=self.cleaned_data["mobile"])
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None

    def _post_clean(self):
        pass  # the row is made by the service (MerchantAdmin.save_formset)


class MerchantStaffInline(admin.TabularInline):
    model = MerchantStaff
    form = MerchantStaffForm
    extra = 0
    fields = ("mobile", "account")
    readonly_fields = ("account",)
    verbose_name_plural = _("merchant staff accounts")

    @admin.display(description=_("account"))
    def account(self, obj):
        return str(obj.user) if obj.pk else "—"


class MerchantApiKeyInline(ReadOnlyMixin, admin.TabularInline):
    """The merchant's API keys, newest first: the public id only (the secret was shown once),
    scopes, when made and last used, and whether (and why) revoked, with a link to revoke."""

    model = MerchantApiKey
    extra = 0
    can_delete = False
    verbose_name = _("API key")
    verbose_name_plural = _("API keys")
    fields = ("masked_key", "key_name", "scopes", "created_at", "last_used_at", "revoked", "revoke")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("key").order_by("-key__created_at")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("vouchers.view_merchant") or request.user.has_perm("vouchers.change_merchant")

    def get_fields(self, request, obj=None):
        if request.user.has_perm("vouchers.change_merchant"):
            return self.fields
        return tuple(f for f in self.fields if f != "revoke")  # who may not change the merchant sees no link

    @admin.display(description=_("key"))
    def masked_key(self, link):
        return f"{link.key.PREFIX}_{link.key.key_id}_…"

    @admin.display(description=_("name"))
    def key_name(self, link):
        return link.key.name

    @admin.display(description=_("scopes"))
    def scopes(self, link):
        return ", ".join(link.key.scopes)

    @admin.display(description=_("created at"))
    def created_at(self, link):
        return date_format(timezone.localtime(link.key.created_at), "Y-m-d H:i")

    @admin.display(description=_("last used at"))
    def last_used_at(self, link):
        used = link.key.last_used_at
        return date_format(timezone.localtime(used), "Y-m-d H:i") if used else gettext("never")

    @admin.display(description=_("revoked"))
    def revoked(self, link):
        at = link.key.revoked_at
        if at is None:
            return "—"
        when = date_format(timezone.localtime(at), "Y-m-d H:i")
        return f"{when}: {link.revoke_reason}" if link.revoke_reason else when

    @admin.display(description=_("revoke"))
    def revoke(self, link):
        if link.key.revoked_at is not None:
            return ""
        url = reverse("admin:vouchers_merchant_key_revoke", args=[link.merchant_id, link.pk])
        return format_html('<a class="button" href="{}" data-key="{}">{}</a>', url, link.pk, gettext("Revoke"))


class MerchantForm(forms.ModelForm):
    class Meta:
        model = Merchant
        fields = ("name", "category", "address", "credit_code", "contact_name", "contact_mobile", "state", "created_at")

    def clean_credit_code(self):
        """Stored as `credit_code_parse` reads it (capitals, ASCII), as an enterprise's is."""
        try:
            return credit_code_parse(self.cleaned_data.get("credit_code"))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


@admin.register(Merchant)
class MerchantAdmin(CityWideSettingsMixin, ReasonActionsMixin, ScopedHistoryMixin, SimpleHistoryAdmin):
    """Merchants: the state changes through the audited services (actions); every other change
    is kept in the merchant's history, with who made it."""

    form = MerchantForm
    reason_template = "admin/vouchers/merchant/suspend.html"

    list_display = ("name", "category", "state", "contact_name", "contact_mobile_masked", "address", "created_at")
    list_filter = ("state", "category")
    search_fields = ("name", "=credit_code", "contact_name")
    search_help_text = _("Words from the name, an exact credit code, or the contact's name.")
    show_facets = admin.ShowFacets.NEVER
    inlines = [MerchantStaffInline, MerchantApiKeyInline]
    actions = ["approve", "suspend", "create_api_key"]
    readonly_fields = ("state", "created_at")

    @admin.display(description=_("contact mobile"))
    def contact_mobile_masked(self, obj):
        return mask_mobile(obj.contact_mobile)

    def has_delete_permission(self, request, obj=None):
        return False  # redemptions and settlements point at it: suspend instead

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, MerchantStaffInline):
            kwargs["form_kwargs"] = {"merchant": obj}
        return kwargs

    def save_formset(self, request, form, formset, change):
        if formset.model is not MerchantStaff:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.instance.pk and inline_form in formset.deleted_forms:
                formset.deleted_objects.append(inline_form.instance)
                inline_form.instance.delete()  # kept in the history of merchant staff, with who
            elif not inline_form.instance.pk and inline_form.has_changed() and inline_form.cleaned_data.get("mobile"):
                formset.new_objects.append(
                    services.merchant_staff_add(
                        merchant=form.instance, mobile=inline_form.cleaned_data["mobile"], actor=request.user
                    )
                )
        return None

    @admin.action(description=_("Approve the selected merchants"), permissions=["change"])
    def approve(self, request, queryset):
        self.run_each(request, queryset, lambda m: services.merchant_approve(merchant=m, actor=request.user))

    @admin.action(description=_("Suspend the selected merchants"), permissions=["change"])
    def suspend(self, request, queryset):
        return self.reason_action(
            request,
            queryset,
            action="suspend",
            title=gettext("Suspend merchants"),
            run=lambda m, reason: services.merchant_suspend(merchant=m, actor=request.user, reason=reason),
            missing=gettext("Give a reason for suspending the merchant."),
        )

    @admin.action(description=_("Create an API key for the selected merchant"), permissions=["change"])
    def create_api_key(self, request, queryset):
        merchants = list(queryset[:2])
        if len(merchants) != 1:
            self.message_user(request, gettext("Select exactly one merchant."), messages.WARNING)
            return None
        try:
            key, secret = services.merchant_api_key_create(merchant=merchants[0], actor=request.user, name="admin")
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return admin_views.key_created(self, request, key=key, secret=secret, merchant=merchants[0])

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:merchant_id>/keys/<int:link_id>/revoke/",
                view(lambda r, merchant_id, link_id: admin_views.key_revoke_page(self, r, merchant_id, link_id)),
                name="vouchers_merchant_key_revoke",
            ),
            *super().get_urls(),
        ]


# --- Templates and campaigns ------------------------------------------------------------------

RULE_FIELDS = (
    "name", "kind", "face_value", "threshold", "stackable", "max_per_order", "total_stock", "budget",
    "limit_per_member", "limit_per_member_month", "distribution", "eligible_union", "eligible_forms",
    "valid_days", "accepted_categories",
)  # fmt: skip


class RulesForm(forms.ModelForm):
    """Categories and forms of employment as checkboxes instead of raw JSON."""

    accepted_categories = forms.MultipleChoiceField(
        label=_("accepted merchant categories"),
        choices=MerchantCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    eligible_forms = forms.MultipleChoiceField(
        label=_("only these forms of employment"),
        choices=EmploymentForm.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Empty: every form."),
    )


@admin.register(CampaignTemplate)
class CampaignTemplateAdmin(CityWideSettingsMixin, OneVersionPerSaveMixin, SimpleHistoryAdmin):
    """Every change of a template (its accepted merchants included) is kept in its history."""

    form = RulesForm
    list_display = ("name", "kind", "face_value", "threshold", "total_stock", "budget", "opens_day", "is_active")
    list_filter = ("is_active", "kind")
    search_fields = ("name",)
    filter_horizontal = ("accepted_merchants",)
    raw_id_fields = ("eligible_union",)


@admin.register(Campaign)
class CampaignAdmin(CityWideSettingsMixin, ServiceActionsMixin, OneVersionPerSaveMixin, SimpleHistoryAdmin):
    """A draft's rules are edited here (each version kept in its history); the lifecycle steps are
    actions that run the audited services."""

    list_display = (
        "name", "state", "claim_opens_at", "claim_closes_at", "total_stock", "remaining", "claimed", "distribution",
    )  # fmt: skip
    list_filter = ("state", "kind", "distribution")
    search_fields = ("name",)
    date_hierarchy = "claim_opens_at"
    show_facets = admin.ShowFacets.NEVER
    raw_id_fields = ("eligible_union", "template")
    filter_horizontal = ("accepted_merchants",)
    actions = ["schedule", "unschedule", "open_now", "close", "draw", "settle"]
    form = RulesForm

    def get_queryset(self, request):
        # The stock taken is the claimed count: no COUNT over the vouchers per row.
        return super().get_queryset(request).annotate(claimed_n=F("total_stock") - F("remaining"))

    @admin.display(description=_("claimed"), ordering="claimed_n")
    def claimed(self, obj):
        return obj.claimed_n if hasattr(obj, "claimed_n") else obj.total_stock - obj.remaining

    def get_fields(self, request, obj=None):
        return (*RULE_FIELDS, "claim_opens_at", "claim_closes_at", "valid_from", "valid_until", "accepted_merchants")

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.state == Campaign.State.DRAFT:
            return ()
        # Once scheduled the rules are fixed; closing is an action.
        return (*self.get_fields(request, obj), "state", "remaining", "template", "month", "draw_seed", "drawn_at")

    def save_row(self, request, obj, form, change):
        services.campaign_draft_save(campaign=obj, actor=request.user, created=not change, changed=form.changed_data)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state != Campaign.State.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description=_("Schedule the selected campaigns"), permissions=["change"])
    def schedule(self, request, queryset):
        self.run_each(request, queryset, lambda c: services.campaign_schedule(campaign=c, actor=request.user))

    @admin.action(description=_("Take the selected scheduled campaigns back to draft"), permissions=["change"])
    def unschedule(self, request, queryset):
        self.run_each(request, queryset, lambda c: services.campaign_unschedule(campaign=c, actor=request.user))

    @admin.action(description=_("Open the selected campaigns for claims now"), permissions=["change"])
    def open_now(self, request, queryset):
        self.run_each(request, queryset, lambda c: services.campaign_open_now(campaign=c, actor=request.user))

    @admin.action(description=_("Close the selected campaigns"), permissions=["change"])
    def close(self, request, queryset):
        self.run_each(request, queryset, lambda c: services.campaign_close(campaign=c, actor=request.user))

    @admin.action(description=_("Run the draw of the selected campaigns"), permissions=["change"])
    def draw(self, request, queryset):
        self.run_each(request, queryset, lambda c: services.draw_run(campaign=c, actor=request.user))

    @admin.action(description=_("Settle the selected campaigns"), permissions=["change"])
    def settle(self, request, queryset):
        self.run_each(request, queryset, lambda c: services.campaign_settle(campaign=c, actor=request.user))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("figures/", view(lambda r: admin_views.figures_page(self, r)), name="vouchers_figures"),
            path(
                "figures/export/", view(lambda r: admin_views.figures_export(self, r)), name="vouchers_figures_export"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"figures_url": reverse("admin:vouchers_figures"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)


# --- Vouchers and redemptions (large tables, read-only) ---------------------------------------


@admin.register(Voucher)
class VoucherAdmin(ReasonActionsMixin, ReadOnlyMixin, LargeTableMixin, admin.ModelAdmin):
    """Read-only, but a claimed voucher can be cancelled (with a reason, audited)."""

    reason_template = "admin/vouchers/voucher/void.html"
    actions = ["void"]
    list_display = ("code", "campaign", "member_masked", "state", "claimed_at", "expires_at", "used_at")
    list_filter = ("state",)
    search_fields = ("=code",)
    search_help_text = _("An exact voucher code.")
    list_select_related = ("campaign", "member")
    fields = ("code", "campaign", "member_masked", "seq", "state", "claimed_at", "claim_month", "expires_at", "used_at")
    readonly_fields = fields

    def get_queryset(self, request):
        # The member's encrypted ID number is never read here.
        return super().get_queryset(request).defer("member__id_number")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(code=term), False

    @admin.display(description=_("member"))
    def member_masked(self, obj):
        return obj.member.masked_name

    def has_void_permission(self, request):
        return request.user.has_perm("vouchers.change_voucher")

    @admin.action(description=_("Cancel the selected vouchers"), permissions=["void"])
    def void(self, request, queryset):
        return self.reason_action(
            request,
            queryset,
            action="void",
            title=gettext("Cancel vouchers"),
            run=lambda v, reason: services.voucher_void(voucher=v, actor=request.user, reason=reason),
            missing=gettext("Give a reason for cancelling the voucher."),
        )


class RedemptionItemInline(ReadOnlyMixin, admin.TabularInline):
    model = RedemptionItem
    fields = ("voucher", "discount", "reversed_at")
    readonly_fields = fields
    extra = 0


class RefundInline(ReadOnlyMixin, admin.TabularInline):
    model = Refund
    fields = ("amount", "full", "vouchers_restored", "created_at")
    readonly_fields = fields
    extra = 0


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyMixin, LargeTableMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "merchant",
        "member_masked",
        "order_ref",
        "order_amount",
        "discount",
        "payable",
        "state",
    )
    list_filter = ("state",)
    search_fields = ("=order_ref",)
    search_help_text = _("The merchant's exact order reference.")
    list_select_related = ("merchant", "member")
    inlines = [RedemptionItemInline, RefundInline]
    fields = (
        "merchant", "member_masked", "order_ref", "order_amount", "discount", "payable", "state", "created_at",
        "settlement",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("member__id_number")

    @admin.display(description=_("member"))
    def member_masked(self, obj):
        return obj.member.masked_name

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("fraud/", view(lambda r: admin_views.fraud_page(self, r)), name="vouchers_fraud"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"fraud_url": reverse("admin:vouchers_fraud"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)


# --- Settlements and settings -----------------------------------------------------------------


@admin.register(Settlement)
class SettlementAdmin(CityWideSettingsMixin, ServiceActionsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("month", "merchant", "vouchers", "amount", "paid_at", "paid_by")
    list_filter = ("month",)
    search_fields = ("merchant__name", "=merchant__credit_code")
    list_select_related = ("merchant", "paid_by")
    show_facets = admin.ShowFacets.NEVER
    actions = ["mark_paid", "export_xlsx"]
    fields = ("merchant", "month", "vouchers", "amount", "paid_at", "paid_by", "created_at")
    readonly_fields = fields

    def has_mark_paid_permission(self, request):
        return self.city_level(request) and request.user.has_perm("vouchers.change_settlement")

    def has_build_permission(self, request):
        return self.city_level(request) and request.user.has_perm("vouchers.add_settlement")

    def has_export_permission(self, request):
        return request.user.has_perm("vouchers.view_settlement")

    @admin.action(description=_("Mark the selected settlements paid"), permissions=["mark_paid"])
    def mark_paid(self, request, queryset):
        self.run_each(request, queryset, lambda s: services.settlement_mark_paid(settlement=s, actor=request.user))

    @admin.action(description=_("Export the month of the selected settlements to XLSX"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        months = sorted(set(queryset.values_list("month", flat=True)[: MAX_ACTION_ROWS + 1]))
        if len(months) != 1:
            self.message_user(request, gettext("Select settlements of one month."), messages.WARNING)
            return None
        try:
            data = selectors.settlement_export_xlsx(month=months[0])
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return xlsx.response(data, f"settlement-{months[0]}.xlsx")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "build/", view(lambda r: admin_views.settlement_build_page(self, r)), name="vouchers_settlement_build"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"build_url": None, **(extra_context or {})}
        if self.has_build_permission(request):
            extra["build_url"] = reverse("admin:vouchers_settlement_build")
        return super().changelist_view(request, extra_context=extra)


@admin.register(VoucherSettings)
class VoucherSettingsAdmin(CityWideSettingsMixin, ScopedHistoryMixin, SimpleHistoryAdmin):
    """A single row: the list opens it. Every change is kept in its history."""

    fields = ("refund_window_hours",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = VoucherSettings.get()
        return HttpResponseRedirect(reverse("admin:vouchers_vouchersettings_change", args=[obj.pk]))
