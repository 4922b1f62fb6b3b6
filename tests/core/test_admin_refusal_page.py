"""A refusal in the admin is a page of the admin, in Chinese, with the way back; elsewhere the
site's own 403 page answers (core.admin_kit.permission_denied_page)."""

from django.test import RequestFactory
from django.urls import reverse

from core.admin_kit import permission_denied_page


def test_a_refusal_in_the_admin_is_a_chinese_admin_page(client, staff, other_staff):
    client.force_login(other_staff)  # 南浔区: staff, without the permission to add API keys
    response = client.get(reverse("admin:core_apikey_add"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "您无权打开此页面" in page
    assert "返回管理后台首页" in page
    assert 'id="header"' in page and "admin-portal.css" in page  # the admin's own header and style
    assert "403 Forbidden" not in page


def test_a_refusal_elsewhere_is_not_an_admin_page(rf: RequestFactory, member):
    request = rf.get("/vouchers/merchant/")
    request.user = member.user
    response = permission_denied_page(request, None)
    assert response.status_code == 403
    assert "您无权打开此页面" not in response.content.decode()


def test_a_worker_or_nobody_refused_under_the_admin_prefix_gets_no_admin_page(rf: RequestFactory, member):
    from django.contrib.auth.models import AnonymousUser

    for user in (AnonymousUser(), member.user):
        request = rf.get("/admin/somewhere/")
        request.user = user
        response = permission_denied_page(request, None)
        assert response.status_code == 403
        assert "返回管理后台首页" not in response.content.decode()
