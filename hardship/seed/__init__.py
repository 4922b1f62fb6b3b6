"""Hardship demo data for `manage.py seed_demo` (see `core.seed`).

- `hardship.setup`: the four partner agencies, the default screening rules, the settings row, the
  local minimum living standards, and the hardship staff groups given to the demo staff.
- `hardship.demo`: a few pushes of the demo city's last two months, run through the cycle, with a
  case or two, so that the admin is not empty.
- `hardship.jiangshan` (only with `--scenario jiangshan`): a county union like 江山市总工会 with
  about 15,000 members and a year (2025) of monthly pushes from 民政局, 人社局, 医保局 and 残联
  (2,000+ records), sent through the real ingestion path and run through the monthly cycle month by
  month on a travelling clock, while the county's staff work the worklist: they confirm the
  households they visit (about 27 files built), dismiss the others with a note, assess, file, pay
  aid (maker–checker), pay the warmth roster (about 445 people × 716 CNY before the Spring
  Festival) and refer cases to the agencies (12 benefits granted). The figures land near the
  county's published year: 2,000+ records, 27 files, about 526 regular warmth recipients and
  about 707,500 CNY paid. Every number is drawn from `ctx.rng(...)`: the same seed, the same county.

- `setup`: the agencies, rules, settings, standards and staff groups; `pushes`: sending a push as
  an agency does; `demo`: the demo city's pushes and cases, and deleting the hardship data;
- `jiangshan_plan`: the county and its year drawn from the seed; `jiangshan`: building and running it.
"""

from hardship.seed.demo import delete_hardship_data, seed_demo_city
from hardship.seed.jiangshan import figures_lines, jiangshan_build, seed_jiangshan, shanghai_time
from hardship.seed.jiangshan_plan import (
    AID_BODIES,
    DISABILITY_TYPES,
    DISMISS_NOTES,
    ILLNESSES,
    JS_CODE,
    JS_COUNTY_MEMBERS,
    JS_MEMBERS,
    JS_MOBILE_PREFIX,
    JS_NAME,
    JS_REGION,
    JS_STAFF,
    JS_TOWNS,
    JS_TRADES,
    JS_YEAR,
    SPRING_AMOUNT,
    YEAR_PAID_TARGET,
    Household,
    Plan,
    jiangshan_plan,
)
from hardship.seed.pushes import money, push_rows, row
from hardship.seed.setup import (
    AGENCIES,
    CITY_SETTINGS_CODENAMES,
    CITY_SETTINGS_GROUP,
    CITY_UPLOAD_CODENAMES,
    CITY_UPLOAD_GROUP,
    DEMO_BATCH_PREFIX,
    DEMO_CITY_SETTINGS_STAFF,
    DEMO_HARDSHIP_STAFF,
    HARDSHIP_GROUP,
    STAFF_CODENAMES,
    STANDARDS,
    SUPERVISOR_CODENAMES,
    SUPERVISOR_GROUP,
    hardship_basics,
    hardship_city_settings_group,
    hardship_city_upload_group,
    hardship_groups,
    local_standards,
    seed_setup,
)

__all__ = [
    "AGENCIES",
    "AID_BODIES",
    "CITY_SETTINGS_CODENAMES",
    "CITY_SETTINGS_GROUP",
    "CITY_UPLOAD_CODENAMES",
    "CITY_UPLOAD_GROUP",
    "DEMO_BATCH_PREFIX",
    "DEMO_CITY_SETTINGS_STAFF",
    "DEMO_HARDSHIP_STAFF",
    "DISABILITY_TYPES",
    "DISMISS_NOTES",
    "HARDSHIP_GROUP",
    "Household",
    "ILLNESSES",
    "JS_CODE",
    "JS_COUNTY_MEMBERS",
    "JS_MEMBERS",
    "JS_MOBILE_PREFIX",
    "JS_NAME",
    "JS_REGION",
    "JS_STAFF",
    "JS_TOWNS",
    "JS_TRADES",
    "JS_YEAR",
    "Plan",
    "SPRING_AMOUNT",
    "STAFF_CODENAMES",
    "STANDARDS",
    "SUPERVISOR_CODENAMES",
    "SUPERVISOR_GROUP",
    "YEAR_PAID_TARGET",
    "delete_hardship_data",
    "figures_lines",
    "hardship_basics",
    "hardship_city_settings_group",
    "hardship_city_upload_group",
    "hardship_groups",
    "jiangshan_build",
    "jiangshan_plan",
    "local_standards",
    "money",
    "push_rows",
    "row",
    "seed_demo_city",
    "seed_jiangshan",
    "seed_setup",
    "shanghai_time",
]
