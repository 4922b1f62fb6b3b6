"""Hardship assistance (困难职工帮扶): agency data in, screening, case files, aid, referrals.

Personal data (ID numbers, health, income, disability) is stored encrypted: ID numbers as a
token plus the keyed blind index shared with `members.Member.id_index`; row payloads,
evidence, assessment figures and the free text that may describe health or income (candidate
notes, the category-override reason, the timeline's text, referral notes and answers) in
`EncryptedTextField`/`EncryptedJSONField` columns (pushed rows in their AES-GCM variants
`AeadTextField`/`AeadJSONField`, for speed).

One module per area: `pushes` (agencies' data), `screening` (rules and candidates), `configuration`
(local standards and the settings row), `cases` (case files, their timeline and documents), `aid`
(aid and warmth), `referrals`, `cycle` (the monthly runs), `access_log`. This package imports
every model, so Django and `from hardship.models import Case` find them.
"""

from hardship.models.access_log import AccessLog
from hardship.models.aid import Aid, FundLine, PaymentBatch, WarmthBatch, WarmthRosterEntry
from hardship.models.cases import Case, CaseDocument, CaseEvent
from hardship.models.configuration import HardshipSettings, LocalStandard
from hardship.models.cycle import CycleRun
from hardship.models.money import MONEY
from hardship.models.pushes import DataPush, PushKind, PushRow
from hardship.models.referrals import Referral
from hardship.models.screening import Candidate, ScreeningRule

__all__ = [
    "AccessLog",
    "Aid",
    "Candidate",
    "Case",
    "CaseDocument",
    "CaseEvent",
    "CycleRun",
    "DataPush",
    "FundLine",
    "HardshipSettings",
    "LocalStandard",
    "MONEY",
    "PaymentBatch",
    "PushKind",
    "PushRow",
    "Referral",
    "ScreeningRule",
    "WarmthBatch",
    "WarmthRosterEntry",
]
