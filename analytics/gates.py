"""The two gates a chip passes on its way to a Chinese buyer, on any date.

The US gate is the export licence: the 3A090 class of the chip under the rule vintage in
force and that vintage's licence policy for China, the "is-informed" letters that
require a licence for a named chip, licences actually granted, denials, and the buyer's
Entity List listing. The Chinese gate is the import side: approvals, conditional
approvals, discouragement, restrictions and blocks that name the chip. Every answer
lists the events and sources it used.

>>> import datetime as dt
>>> from analytics.gates import us_gate_words
>>> us_gate_words("case_by_case")
'licence reviewed case by case'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

US_GATES = ("not_controlled", "licence_required", "case_by_case", "presumption_of_denial",
            "licence_granted", "not_applicable")
CHINA_GATES = ("no_restriction", "discouraged", "approval_required", "conditionally_approved",
               "approved", "blocked", "unknown")
# what a Chinese decision that names a chip does to its import gate
CHINA_ACTION_GATE = {
    "conditional_approval": "conditionally_approved",
    "approve": "approved",
    "permit": "approved",
    "discourage": "discouraged",
    "restrict": "approval_required",
    "deny": "blocked",
}
# licence policy of a rule vintage -> US gate; a class with no policy needs a licence
POLICY_GATE = {"presumption_of_denial": "presumption_of_denial",
               "case_by_case": "case_by_case", "presumption_of_approval": "licence_required"}
_US_WORDS = {
    "not_controlled": "no US licence needed",
    "licence_required": "a US licence is required",
    "case_by_case": "licence reviewed case by case",
    "presumption_of_denial": "licence presumed denied",
    "licence_granted": "US licences granted",
    "not_applicable": "not a US design, no US licence gate",
}
_CN_WORDS = {
    "no_restriction": "no Chinese restriction on record",
    "discouraged": "Beijing discourages purchases",
    "approval_required": "purchases need Beijing's approval",
    "conditionally_approved": "conditionally approved by Beijing",
    "approved": "approved by Beijing",
    "blocked": "blocked by Beijing",
    "unknown": "Chinese stance unknown",
}
COLUMNS = {
    "chip_id": pl.String, "buyer_id": pl.String, "date": pl.Date, "us_class": pl.String,
    "us_gate": pl.String, "china_gate": pl.String, "conditions": pl.String,
    "verdict": pl.String, "event_ids": pl.List(pl.String), "source_ids": pl.List(pl.String),
}


def us_gate_words(gate: str) -> str:
    """The US gate in words.

    Parameters
    ----------
    gate : str
        One of :data:`US_GATES`.

    Returns
    -------
    str

    Examples
    --------
    >>> us_gate_words("licence_granted")
    'US licences granted'
    """
    return _US_WORDS[gate]


@dataclass
class _Answer:
    us_class: str = "none"
    us_gate: str = "not_controlled"
    china_gate: str = "no_restriction"
    conditions: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def cite(self, event_id: str | None, sources: Iterable[str] | None) -> None:
        if event_id and event_id not in self.events:
            self.events.append(event_id)
        for s in sources or ():
            if s not in self.sources:
                self.sources.append(s)


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _applies_to_buyer(entity_ids: Sequence[str] | None, buyer: str, parents: set[str],
                      vendor: str | None, buyers: frozenset[str]) -> bool:
    """Whether a decision reaches this buyer: it names no one, the buyer or its parent,
    or the chip's vendor and no Chinese buyer (a decision about the vendor's sales)."""
    names = set(entity_ids or ())
    if not names or names & ({buyer} | parents):
        return True
    return vendor in names and not names & buyers


def _vintage(classes: pl.DataFrame, on: dt.date) -> dict | None:
    """The chip's classification row under the rule vintage in force on ``on``."""
    live = classes.filter(
        (pl.col("effective_date") <= on)
        & (pl.col("superseded_date").is_null() | (pl.col("superseded_date") > on))
    )
    return live.row(0, named=True) if live.height else None


def _us_side(a: _Answer, classes: pl.DataFrame, events: pl.DataFrame, who: _Buyer,
             listed: dict | None, on: dt.date) -> None:
    row = _vintage(classes, on)
    if row is not None:
        a.us_class = row["eccn_class"]
        if row["eccn_class"] not in ("none", "unknown"):
            a.us_gate = POLICY_GATE.get(row["china_licence_policy"] or "", "licence_required")
        a.cite(row["rule_id"], row["rule_source_ids"])
    for ev in events.filter(pl.col("jurisdiction") == "US").iter_rows(named=True):
        if not who.reached_by(ev["entity_ids"]):
            continue
        action = ev["action"]
        if action == "license_required" and a.us_gate == "not_controlled":
            a.us_gate = "licence_required"
        elif action == "approve":
            a.us_gate = "licence_granted"
        elif action == "deny":
            a.us_gate = "presumption_of_denial"
        elif action == "revenue_share":
            a.conditions.append(f"{ev['conditions'] or ev['summary']} ({ev['event_id']})")
        else:
            continue
        a.cite(ev["event_id"], ev["source_ids"])
    if listed is not None:
        a.us_gate = "presumption_of_denial"
        a.conditions.append(f"buyer on the US Entity List since {listed['date']}")
        a.cite(None, listed["source_ids"])


def _china_side(a: _Answer, events: pl.DataFrame, who: _Buyer) -> None:
    for ev in events.filter(pl.col("jurisdiction") == "CN").iter_rows(named=True):
        gate = CHINA_ACTION_GATE.get(ev["action"])
        if gate is None or not who.reached_by(ev["entity_ids"]):
            continue
        a.china_gate = gate
        if gate == "conditionally_approved" and ev["conditions"]:
            a.conditions.append(f"{ev['conditions']} ({ev['event_id']})")
        a.cite(ev["event_id"], ev["source_ids"])


def _listing(entities: pl.DataFrame, ids: set[str], on: dt.date) -> dict | None:
    """The earliest US Entity List listing among ``ids`` in force on ``on``."""
    if "entity_list_date" not in entities.columns:
        return None
    hit = entities.filter(
        pl.col("entity_id").is_in(sorted(ids)) & (pl.col("entity_list_date") <= on)
    ).sort("entity_list_date")
    if not hit.height:
        return None
    row = hit.row(0, named=True)
    return {"date": row["entity_list_date"], "source_ids": row.get("entity_list_source_ids")}


def _verdict(model: str, buyer: str, on: dt.date, a: _Answer) -> str:
    return (f"{model} for {buyer} on {on.isoformat()}: {_US_WORDS[a.us_gate]}; "
            f"{_CN_WORDS[a.china_gate]}.")


@dataclass(frozen=True)
class _Buyer:
    """A buyer, its parent and the chip's vendor: whom a decision may name."""

    entity_id: str
    parents: frozenset[str]
    vendor: str
    chinese: frozenset[str]

    def reached_by(self, entity_ids: Sequence[str] | None) -> bool:
        return _applies_to_buyer(entity_ids, self.entity_id, set(self.parents), self.vendor,
                                 self.chinese)


def _one(chip: dict, buyer: dict, on: dt.date, classes: pl.DataFrame,
         events: pl.DataFrame, entities: pl.DataFrame, vendor_country: str | None) -> dict:
    parents = frozenset({buyer["parent_id"]} - {None})
    chinese = frozenset(entities.filter(pl.col("country") == "CN")["entity_id"].to_list())
    who = _Buyer(buyer["entity_id"], parents, chip["vendor_id"], chinese)
    a = _Answer()
    chip_events = events.filter(
        pl.col("chip_ids").list.contains(chip["chip_id"]) & (pl.col("date") <= on)
    ).sort("date", "event_id")
    if vendor_country != "US":
        a.us_class, a.us_gate = "not_us", "not_applicable"
    else:
        listed = _listing(entities, {buyer["entity_id"]} | parents, on)
        _us_side(a, classes, chip_events, who, listed, on)
    _china_side(a, chip_events, who)
    return {
        "chip_id": chip["chip_id"], "buyer_id": buyer["entity_id"], "date": on,
        "us_class": a.us_class, "us_gate": a.us_gate, "china_gate": a.china_gate,
        "conditions": "; ".join(a.conditions) or None,
        "verdict": _verdict(chip["model"], buyer["name"], on, a),
        "event_ids": a.events, "source_ids": a.sources,
    }


def gate_matrix(
    chip_ids: Sequence[str],
    buyer_ids: Sequence[str],
    dates: Sequence[dt.date | str],
    *,
    classification: pl.DataFrame,
    chips: pl.DataFrame,
    approvals: pl.DataFrame,
    entities: pl.DataFrame,
) -> pl.DataFrame:
    """Both gates for every chip, buyer and date of a grid.

    Parameters
    ----------
    chip_ids, buyer_ids : sequence of str
        Chips (``chips.chip_id``) and buyers (``entities.entity_id``).
    dates : sequence of date or ISO str
        The days to answer for.
    classification : polars.DataFrame
        :func:`analytics.classify` of ``chips`` under the release's ``control_rules``.
    chips, approvals, entities : polars.DataFrame
        The datasets of one release. ``entities`` may carry ``entity_list_date`` and
        ``entity_list_source_ids`` (US Entity List listings).

    Returns
    -------
    polars.DataFrame
        One row per (chip, buyer, date): ``chip_id``, ``buyer_id``, ``date``,
        ``us_class`` (3A090 class under the vintage in force, ``none`` before the
        first rule, ``not_us`` for non-US designs), ``us_gate`` (one of
        :data:`US_GATES`), ``china_gate`` (one of :data:`CHINA_GATES`),
        ``conditions``, ``verdict`` (one sentence), ``event_ids`` and ``source_ids``
        of every fact used.

    Examples
    --------
    >>> import datetime as dt
    >>> chips = pl.DataFrame({"chip_id": ["h20"], "vendor_id": ["nv"], "model": ["H20"]})
    >>> entities = pl.DataFrame({"entity_id": ["nv", "bd"], "name": ["NVIDIA", "ByteDance"],
    ...     "country": ["US", "CN"], "parent_id": [None, None]})
    >>> approvals = pl.DataFrame({"event_id": ["E1"], "date": [dt.date(2025, 4, 9)],
    ...     "jurisdiction": ["US"], "action": ["license_required"], "chip_ids": [["h20"]],
    ...     "entity_ids": [["nv"]], "conditions": [None], "summary": ["letter"],
    ...     "source_ids": [["s1"]]})
    >>> classes = pl.DataFrame({"chip_id": ["h20"], "rule_id": ["r23"],
    ...     "effective_date": [dt.date(2023, 11, 17)], "superseded_date": [None],
    ...     "eccn_class": ["none"], "china_licence_policy": [None],
    ...     "rule_source_ids": [["s0"]]}, schema_overrides={"superseded_date": pl.Date,
    ...     "china_licence_policy": pl.String})
    >>> m = gate_matrix(["h20"], ["bd"], ["2025-01-15", "2025-05-01"],
    ...     classification=classes, chips=chips, approvals=approvals, entities=entities)
    >>> m["us_gate"].to_list()
    ['not_controlled', 'licence_required']
    """
    chip_rows = {r["chip_id"]: r for r in chips.iter_rows(named=True)}
    ent_rows = {r["entity_id"]: r for r in entities.iter_rows(named=True)}
    events = approvals.with_columns(
        pl.col("chip_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )
    rows = []
    for chip_id in chip_ids:
        if chip_id not in chip_rows:
            raise KeyError(f"chip {chip_id!r} is not in the chips table")
        chip = chip_rows[chip_id]
        vendor = ent_rows.get(chip["vendor_id"], {})
        classes = classification.filter(pl.col("chip_id") == chip_id)
        for buyer_id in buyer_ids:
            if buyer_id not in ent_rows:
                raise KeyError(f"buyer {buyer_id!r} is not in the entities table")
            for on in dates:
                rows.append(_one(chip, ent_rows[buyer_id], _as_date(on), classes, events,
                                 entities, vendor.get("country")))
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")
