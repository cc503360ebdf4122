"""Usage a customer can be billed on, from the same daily counters the quota reads
(``APIKEY#<sha256> / USAGE#<day>``: ``requests`` and ``g_<route group>``).

- ``GET /v1/usage?from=&to=``: the calling key, per day and route group;
- ``renown usage report --month YYYY-MM`` (``GET /admin/v1/usage-report``): per owner, live and test
  keys apart (test keys are never billed), in JSON or CSV.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections import Counter
from typing import Any

from functions.api import selfservice_models as sm
from functions.api.selfservice_store import SelfServiceTable


def groups_of(item: dict[str, Any]) -> dict[str, int]:
    """Requests per route group of one daily counter item.

    Examples
    --------
    >>> groups_of({"requests": 3, "g_profiles": 2, "g_usage": 1, "day": "2025-06-15"})
    {'profiles': 2, 'usage': 1}
    """
    return {k[2:]: int(v) for k, v in sorted(item.items()) if k.startswith("g_")}


def key_range(
    table: SelfServiceTable, key_hash: str, first_day: str, last_day: str
) -> tuple[list[sm.UsageGroupDay], dict[str, int]]:
    """Per-day counters of one key over ``first_day..last_day`` and their totals per group."""
    days: list[sm.UsageGroupDay] = []
    total: Counter[str] = Counter()
    for item in table.usage_days(key_hash, first_day, last_day):
        groups = groups_of(item)
        total.update(groups)
        days.append(sm.UsageGroupDay(day=str(item["day"]), requests=int(item["requests"]), groups=groups))
    return days, dict(sorted(total.items()))


def month_bounds(month: str) -> tuple[str, str]:
    """First and last day of ``YYYY-MM``.

    Examples
    --------
    >>> month_bounds("2024-02")
    ('2024-02-01', '2024-02-29')
    """
    year, mon = (int(p) for p in month.split("-"))
    return f"{month}-01", f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


def monthly(table: SelfServiceTable, month: str) -> sm.UsageReport:
    """Requests per owner in ``month`` (registered keys: ``GSI1 APIKEYS``, then one Query per key)."""
    first, last = month_bounds(month)
    rows: dict[tuple[str, bool], dict[str, Any]] = {}
    for rec in table.api_keys():
        days, groups = key_range(table, rec.key_hash, first, last)
        requests = sum(d.requests for d in days)
        if not requests:
            continue
        row = rows.setdefault(
            (rec.owner, not rec.test_mode),
            {"plans": set(), "keys": [], "requests": 0, "groups": Counter()},
        )
        row["plans"].add(rec.plan or "")
        row["keys"].append(rec.key_id)
        row["requests"] += requests
        row["groups"].update(groups)
    owners = [
        sm.OwnerUsage(
            owner=owner,
            billable=billable,
            plan="+".join(sorted(p for p in row["plans"] if p)) or None,
            keys=sorted(row["keys"]),
            requests=row["requests"],
            groups=dict(sorted(row["groups"].items())),
        )
        for (owner, billable), row in sorted(rows.items(), key=lambda kv: (kv[0][0], not kv[0][1]))
    ]
    return sm.UsageReport(month=month, first_day=first, last_day=last, owners=owners)


def to_csv(report: sm.UsageReport) -> str:
    """One line per owner (and billable flag), one column per route group seen in the month.

    Examples
    --------
    >>> r = sm.UsageReport(month="2025-06", first_day="2025-06-01", last_day="2025-06-30", owners=[
    ...     sm.OwnerUsage(owner="acme", billable=True, plan="pro", keys=["ab"], requests=3,
    ...                   groups={"profiles": 3})])
    >>> print(to_csv(r).strip())
    month,owner,billable,plan,keys,requests,group_profiles
    2025-06,acme,true,pro,ab,3,3
    """
    groups = sorted({g for o in report.owners for g in o.groups})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["month", "owner", "billable", "plan", "keys", "requests", *(f"group_{g}" for g in groups)]
    )
    for o in report.owners:
        writer.writerow(
            [
                report.month,
                o.owner,
                "true" if o.billable else "false",
                o.plan or "",
                " ".join(o.keys),
                o.requests,
                *(o.groups.get(g, 0) for g in groups),
            ]
        )
    return out.getvalue()
