"""Template tags of the admin's own pages."""

from django import template

from core.dashboard import waiting_for

register = template.Library()


@register.simple_tag(takes_context=True)
def waiting_cards(context):
    """The cards of what waits for the requesting staff member (`core.dashboard`)."""
    return waiting_for(context["request"].user)
