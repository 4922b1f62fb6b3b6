"""The members app's demo data for `manage.py seed_demo` (the registry is `core.seed`).

`core.seed.seed_run` imports this package for every run; importing it registers the steps of
`members.seed.demo`.
"""

from members.seed import demo  # noqa: F401 - registers the members app's seed steps
