"""The decimal fields of amounts of money (CNY, two decimals)."""

MONEY = {"max_digits": 12, "decimal_places": 2}
