"""Every column and filter of every admin list is named in Chinese: no raw field name, no English
`@admin.display` without a translation."""

import re

import pytest
from django.urls import reverse

from tests.admin_world import add_rows
from tests.core.test_admin_query_counts import CHANGELISTS
from tests.factories import UserFactory

CHINESE = re.compile(r"[\u4e00-\u9fff]")
HEADER = re.compile(r'<th scope="col" class="[^"]*column-(\w+)[^"]*">(.*?)</th>', re.S)
FILTER = re.compile(r"<summary>\s*(.*?)\s*</summary>", re.S)
TAGS = re.compile(r"<[^>]+>")


@pytest.fixture
def root(tree):
    add_rows(tree, 1)
    return UserFactory(username="qc-root", is_staff=True, is_superuser=True)


def test_every_column_and_filter_of_every_list_is_named_in_chinese(client, root):
    client.force_login(root)
    found, seen = [], 0
    for label in CHANGELISTS:
        app_label, model_name = label.split(".")
        response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
        if response.status_code != 200:
            continue
        html = response.content.decode()
        for column, cell in HEADER.findall(html):
            seen += 1
            text = TAGS.sub("", cell).strip()
            if column != "action_checkbox" and text and not CHINESE.search(text):
                found.append(f"{label} column {column}: {text!r}")
        for title in FILTER.findall(html):
            text = TAGS.sub("", title).strip()
            if text and not CHINESE.search(text):
                found.append(f"{label} filter: {text!r}")
    assert seen > 100  # the columns were found at all
    assert found == []
