"""One colour per value of each category, shared by every chart.

A category (a jurisdiction, an approval action, a vendor, a rule class, ...) keeps the
same colour in every chart. The colours come from the colour-blind-safe schemes of
Okabe and Ito and of Paul Tol; the categories drawn together in one chart (rule class,
licence policy and vendor in the export-controls scatter) share no colour. A value that
no palette names gets a spare colour that the chart's other values do not use.
"""

from __future__ import annotations

from collections.abc import Iterable

from analytics.vocab import APPROVAL_ACTIONS, LAB_SUBJECTS, LICENCE_POLICIES

JURISDICTION = {
    "US": "#0072B2",
    "CN": "#D55E00",
    "NL": "#E69F00",
    "JP": "#CC79A7",
    "MY": "#009E73",
    "TW": "#56B4E9",
    "KR": "#332288",
    "SG": "#999933",
}
ACTION = {
    "approve": "#117733",
    "conditional_approval": "#44AA99",
    "permit": "#88CCEE",
    "license_required": "#DDCC77",
    "restrict": "#D55E00",
    "deny": "#882255",
    "revoke": "#332288",
    "guidance": "#999933",
    "discourage": "#CC79A7",
    "investigate": "#0072B2",
    "revenue_share": "#E69F00",
    "proposed": "#BBBBBB",
}
RULE_CLASS = {"3A090.a": "#CC3311", "3A090.b": "#EE7733", "none": "#BBBBBB", "unknown": "#DDDDDD"}
LICENCE_POLICY = {
    "presumption_of_denial": "#882255",
    "case_by_case": "#33BBEE",
    "licence_required": "#DDCC77",
    "presumption_of_approval": "#44AA99",
}
VENDOR = {
    "nvidia": "#228833",
    "amd": "#AA3377",
    "huawei": "#4477AA",
    "google": "#CCBB44",
    "cambricon": "#332288",
    "biren": "#997700",
    "moore_threads": "#EE99AA",
}
QUANTITY = {
    "approved": "#4477AA",
    "ordered": "#EE6677",
    "purchase intent": "#CCBB44",
    "confirmed delivered": "#228833",
}
LAB_SUBJECT = {"holdings": "#4477AA", "cluster": "#EE7733", "training_run": "#AA3377",
               "purchase": "#009988", "budget": "#BBBBBB"}
CHANGE = {"added": "#228833", "removed": "#CC3311", "changed": "#CCBB44"}

PALETTES = {
    "jurisdiction": JURISDICTION,
    "action": ACTION,
    "rule_class": RULE_CLASS,
    "licence_policy": LICENCE_POLICY,
    "vendor": VENDOR,
    "quantity": QUANTITY,
    "lab_subject": LAB_SUBJECT,
    "change": CHANGE,
}
# for values no palette names, in this order
SPARE = ("#000000", "#6699CC", "#EECC66", "#994455", "#997700", "#EE99AA", "#004488", "#777777")

# the vocabularies these palettes colour, each with its home in analytics.schemas
VOCABULARIES = {
    "action": APPROVAL_ACTIONS,
    "licence_policy": LICENCE_POLICIES,
    "lab_subject": LAB_SUBJECTS,
}


def colours(category: str, values: Iterable[str | None]) -> tuple[list[str], list[str]]:
    """Domain and colour range of ``category`` for the values a chart shows.

    Parameters
    ----------
    category : str
        A key of :data:`PALETTES` (``"action"``, ``"jurisdiction"``, ``"vendor"``, ...).
    values : iterable of str
        The values the chart draws; nulls and repeats are dropped. Known values come in
        the palette's order, then unknown values in sorted order.

    Returns
    -------
    tuple of (list of str, list of str)
        ``(domain, range)`` for an altair ``Scale``: one distinct colour per value.

    Examples
    --------
    >>> colours("action", ["deny", "approve", "deny", None])
    (['approve', 'deny'], ['#117733', '#882255'])
    >>> colours("vendor", ["nvidia", "acme"])
    (['nvidia', 'acme'], ['#228833', '#000000'])
    """
    palette = PALETTES[category]
    present = {v for v in values if v is not None}
    domain = [v for v in palette if v in present] + sorted(present - set(palette))
    taken = {palette[v] for v in domain if v in palette}
    spare = iter(c for c in (*SPARE, *_greys()) if c not in taken)
    return domain, [palette[v] if v in palette else next(spare) for v in domain]


def _greys() -> list[str]:
    return [f"#{v:02x}{v:02x}{v:02x}" for v in range(40, 220, 6)]
