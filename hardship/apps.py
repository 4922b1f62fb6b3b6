from django.apps import AppConfig


class HardshipConfig(AppConfig):
    name = "hardship"
