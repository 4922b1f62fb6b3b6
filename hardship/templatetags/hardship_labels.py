"""Labels for the codes that hardship pages show: `{{ code|fund_line_label }}`."""

from django import template

from hardship.admin.display import fund_line_label as _fund_line_label

register = template.Library()


@register.filter
def fund_line_label(code) -> str:
    """A fund line's code (or an agency's `other`) by its label in the reader's language."""
    return _fund_line_label(code)
