"""Screening (主动发现): pushed rows matched to members, rules applied, a worklist of candidates.

- `match_rows` binds rows to members by the keyed blind index in one SQL UPDATE … FROM (rows of
  non-members stay unmatched: they are counted, never actioned).
- `screen` applies every active `ScreeningRule` to the current, matched rows of active members.
  Payloads are encrypted, so rows are streamed (only the needed columns, in chunks) and
  aggregated in Python. Each hit becomes a `Candidate` with its evidence, or a note of new
  evidence on the member's open case. Screening never decides against anyone: it only adds to
  the staff's worklist.
- `roster_refresh` rebuilds a year's warmth roster (常态化送温暖) from open cases, confirmed
  candidates and the low-income lists.

Evidence identity. Agencies push their lists every month, so the same fact (someone on the 低保
list since a date, a grade-4 work injury) arrives again and again as new rows. A candidate's
evidence is therefore identified by *facts*, not row ids: an event row (a medical bill, a payment)
is the agency's record (agency, kind, period, source key: a corrected row keeps it), a list row
is what it states (list and start date; grade and injury date; type and grade). A hit whose facts
were all seen before for the same member and rule (by any candidate, open, confirmed or dismissed,
or on the open case's timeline) is not raised again; a hit with a new fact is. `evidence_key` is a
hash of the rule id and the sorted fact keys.


- `matching`: rows bound to members; `rules`: the default rules; `facts`: what a row states and
  the keys of evidence; `evaluators`: each rule kind's hits; `candidates`: screening a period;
- `roster`: the year's warmth roster.

Periods are in `hardship.periods`; a member's pushed rows, for the case page, in
`hardship.selectors.member_evidence`.
"""

from hardship.screening.candidates import screen, screen_rule
from hardship.screening.evaluators import EVALUATORS, RULE_ROW_KIND
from hardship.screening.facts import evidence_key
from hardship.screening.matching import match_figures, match_rows
from hardship.screening.roster import roster_refresh
from hardship.screening.rules import rules_ensure_defaults

__all__ = [
    "EVALUATORS",
    "RULE_ROW_KIND",
    "evidence_key",
    "match_figures",
    "match_rows",
    "roster_refresh",
    "rules_ensure_defaults",
    "screen",
    "screen_rule",
]
