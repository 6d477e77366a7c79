"""The two gates a chip passes on its way to a Chinese buyer, on any date.

The US gate is the export licence: the 3A090 class of the chip under the rule vintage in
force and that vintage's licence policy for China, the "is-informed" letters that
require a licence for a named chip, licences actually granted, denials, and the buyer's
US Entity List listing (``entities.entity_list_date``, with its precision and sources).
A chip designed outside the United States has no US gate (``not_applicable``). The
Chinese gate is the import side: approvals, conditional approvals, discouragement,
restrictions and blocks that name the chip. Every answer lists the events and sources it
used.

:class:`GateBook` holds one release's tables, prepared once, and answers any chip, buyer
(or no named buyer) and date; :func:`gate_matrix` answers a grid and
:func:`analytics.supply_checks.delivery_without_approval` asks it about deliveries, so
the licence rule has one home.

>>> us_gate_words("case_by_case")
'licence reviewed case by case'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from analytics.rules import as_date, is_us_design

US_GATES = ("not_controlled", "licence_required", "case_by_case", "presumption_of_denial",
            "licence_granted", "not_applicable")
#: US gates that let an export go ahead without a licence of its own, or with one granted.
US_GATES_OPEN = ("not_controlled", "licence_granted", "not_applicable")
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
_QUALIFIER_WORDS = {"at_least": "at least ", "at_most": "at most ", "about": "about ",
                    "approx": "about "}
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
        The words the verdicts use.

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
    permitted: bool = False  # a US permit (a granting decision short of a licence) in force

    @property
    def us_open(self) -> bool:
        """Whether a US export may go ahead: the gate is open, or a permit is in force."""
        return self.us_gate in US_GATES_OPEN or (
            self.permitted and self.us_gate != "presumption_of_denial")

    def cite(self, event_id: str | None, sources: Iterable[str] | None) -> None:
        if event_id and event_id not in self.events:
            self.events.append(event_id)
        for s in sources or ():
            if s not in self.sources:
                self.sources.append(s)


def _ids(value: Any) -> list[str]:
    """A list column's value, or the ``;``-joined text of a CSV read without a contract."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(";") if v]
    return list(value)


def _quantity(ev: dict) -> str | None:
    units = ev.get("quantity_units")
    if units is None:
        return None
    scope = {"combined": " combined", "per_entity": " per buyer"}.get(ev.get("quantity_scope"), "")
    return f"{_QUALIFIER_WORDS.get(ev.get('quantity_qualifier') or '', '')}{units:,}{scope}"


@dataclass(frozen=True)
class _Buyer:
    """A buyer (``None``: no named buyer), its parents, the chip's vendor, the Chinese ids."""

    entity_id: str | None
    parents: frozenset[str]
    vendor: str | None
    chinese: frozenset[str]

    def reached_by(self, entity_ids: Sequence[str]) -> bool:
        """Whether a decision reaches this buyer: it names no one, the buyer or its parent,
        or the chip's vendor and no Chinese buyer (a decision about the vendor's sales)."""
        names = set(entity_ids)
        if not names or names & ({self.entity_id} | self.parents) - {None}:
            return True
        return self.vendor in names and not names & self.chinese


@dataclass
class GateBook:
    """One release's gate facts, prepared once; :meth:`answer` is one gate answer.

    Build it with :meth:`of`.
    """

    chips: dict[str, dict]
    entities: dict[str, dict]
    us_design: dict[str, bool | None]
    classes: dict[str, list[dict]]
    events: dict[str, list[dict]]
    chinese: frozenset[str]

    @classmethod
    def of(cls, *, classification: pl.DataFrame, chips: pl.DataFrame, approvals: pl.DataFrame,
           entities: pl.DataFrame) -> GateBook:
        """Prepare the tables of one release.

        Parameters
        ----------
        classification : polars.DataFrame
            :func:`analytics.classify` of ``chips`` under the release's ``control_rules``.
        chips, approvals, entities : polars.DataFrame
            The datasets of the same release.

        Returns
        -------
        GateBook

        Examples
        --------
        >>> import polars as pl
        >>> chips = pl.DataFrame({"chip_id": ["x"], "vendor_id": ["v"], "model": ["X"]})
        >>> ents = pl.DataFrame({"entity_id": ["v"], "name": ["V"], "country": ["CN"],
        ...                      "parent_id": [None]})
        >>> apr = pl.DataFrame({"event_id": [], "date": [], "jurisdiction": [], "action": [],
        ...                     "chip_ids": [], "entity_ids": [], "source_ids": []})
        >>> book = GateBook.of(classification=pl.DataFrame({"chip_id": []}), chips=chips,
        ...                    approvals=apr, entities=ents)
        >>> book.us_design
        {'x': False}
        """
        designs = chips.select("chip_id", "vendor_id").join(
            entities.select(pl.col("entity_id").alias("vendor_id"),
                            pl.col("country").alias("vendor_country")),
            on="vendor_id", how="left",
        ).select("chip_id", is_us_design("vendor_country").alias("us"))
        classes: dict[str, list[dict]] = {}
        if classification.height:
            for row in classification.sort("effective_date", nulls_last=True).iter_rows(
                    named=True):
                classes.setdefault(row["chip_id"], []).append(row)
        events: dict[str, list[dict]] = {}
        for row in approvals.sort("date", "event_id").iter_rows(named=True):
            row = {**row, "entity_ids": _ids(row.get("entity_ids")),
                   "source_ids": _ids(row.get("source_ids"))}
            for chip in _ids(row.get("chip_ids")):
                events.setdefault(chip, []).append(row)
        ents = {r["entity_id"]: r for r in entities.iter_rows(named=True)}
        return cls(
            chips={r["chip_id"]: r for r in chips.iter_rows(named=True)},
            entities=ents,
            us_design=dict(designs.iter_rows()),
            classes=classes,
            events=events,
            chinese=frozenset(e for e, r in ents.items() if r.get("country") == "CN"),
        )

    def answer(self, chip_id: str, buyer_id: str | None, on: dt.date | str) -> dict:
        """Both gates for one chip, buyer (``None``: no named buyer) and date.

        Parameters
        ----------
        chip_id : str
        buyer_id : str or None
        on : date or ISO str

        Returns
        -------
        dict
            One row of :data:`COLUMNS`, and ``us_open``: whether a US export may go ahead
            (the gate is open, or a US permit, a granting decision short of a licence, is
            in force: :func:`analytics.rules.is_granting`).

        Examples
        --------
        >>> import analytics
        >>> t = analytics.Release.open("2026-11-29").tables()
        >>> classes = analytics.classify(t["chips"], t["control_rules"], entities=t["entities"])
        >>> book = GateBook.of(classification=classes, chips=t["chips"],
        ...                    approvals=t["approvals"], entities=t["entities"])
        >>> book.answer("nvidia_h20_96gb", None, "2025-05-01")["us_gate"]
        'licence_required'
        """
        if chip_id not in self.chips:
            raise KeyError(f"chip {chip_id!r} is not in the chips table")
        if buyer_id is not None and buyer_id not in self.entities:
            raise KeyError(f"buyer {buyer_id!r} is not in the entities table")
        on = as_date(on)
        chip = self.chips[chip_id]
        buyer = self.entities.get(buyer_id or "", {})
        parents = frozenset({buyer.get("parent_id")} - {None})
        who = _Buyer(buyer_id, parents, chip.get("vendor_id"), self.chinese)
        chip_events = [e for e in self.events.get(chip_id, []) if e["date"] <= on]
        a = _Answer()
        if self.us_design.get(chip_id) is False:
            a.us_class, a.us_gate = "not_us", "not_applicable"
        else:
            self._us_side(a, chip_id, chip_events, who, on)
        _china_side(a, chip_events, who)
        return {
            "chip_id": chip_id, "buyer_id": buyer_id, "date": on,
            "us_class": a.us_class, "us_gate": a.us_gate, "china_gate": a.china_gate,
            "conditions": "; ".join(a.conditions) or None,
            "verdict": _verdict(chip.get("model") or chip_id,
                                buyer.get("name") or "buyers not named", on, a),
            "event_ids": a.events, "source_ids": a.sources, "us_open": a.us_open,
        }

    def changes(self, chip_id: str, buyer_id: str | None) -> tuple[dt.date, ...]:
        """The days on which :meth:`answer` for this chip and buyer can change, sorted.

        Between two of them every field but ``date`` and ``verdict`` is the same: the
        answer reads the date only through the rule vintage in force, the decisions
        dated on or before it and the Entity List listings of the buyer and its parents.

        >>> book = GateBook(chips={"x": {}}, entities={}, us_design={}, events={},
        ...     classes={"x": [{"effective_date": dt.date(2023, 11, 17),
        ...                     "superseded_date": dt.date(2025, 1, 15)}]},
        ...     chinese=frozenset())
        >>> [d.isoformat() for d in book.changes("x", None)]
        ['2023-11-17', '2025-01-15']
        """
        buyer = self.entities.get(buyer_id or "", {})
        who = {buyer_id, buyer.get("parent_id")} - {None}
        days = {e["date"] for e in self.events.get(chip_id, [])}
        days |= {r.get(k) for r in self.classes.get(chip_id, [])
                 for k in ("effective_date", "superseded_date")}
        days |= {self.entities.get(e, {}).get("entity_list_date") for e in who}
        return tuple(sorted(days - {None}))

    def distinct_buyers(self) -> frozenset[str]:
        """The buyers whose answers can differ from those for no named buyer.

        :meth:`answer` reads a buyer only through whether a decision names it or its
        parent and whether either is on the US Entity List; for every other buyer each
        field but ``buyer_id`` and ``verdict`` is that of ``answer(chip, None, on)``.
        """
        named = {x for evs in self.events.values() for e in evs for x in e["entity_ids"]}
        named |= {e for e, r in self.entities.items() if r.get("entity_list_date")}
        return frozenset(e for e, r in self.entities.items()
                         if e in named or r.get("parent_id") in named)

    def _us_side(self, a: _Answer, chip_id: str, events: list[dict], who: _Buyer,
                 on: dt.date) -> None:
        row = _vintage(self.classes.get(chip_id, []), on)
        if row is not None:
            a.us_class = row["eccn_class"]
            if row["eccn_class"] not in ("none", "unknown"):
                policy = row.get("china_licence_policy") or ""
                a.us_gate = POLICY_GATE.get(policy, "licence_required")
            a.cite(row["rule_id"], _ids(row.get("rule_source_ids")))
        for ev in events:
            if ev["jurisdiction"] != "US" or not who.reached_by(ev["entity_ids"]):
                continue
            action = ev["action"]
            if action == "license_required" and a.us_gate == "not_controlled":
                a.us_gate = "licence_required"
            elif action == "approve":
                a.us_gate, a.permitted = "licence_granted", True
                cap = _quantity(ev)
                if cap:
                    a.conditions.append(f"licensed quantity {cap} ({ev['event_id']})")
            elif action == "permit":  # exports allowed in principle; licences still reviewed
                a.permitted = True
                if a.us_gate in ("licence_required", "presumption_of_denial"):
                    a.us_gate = "case_by_case"
            elif action == "deny":
                a.us_gate, a.permitted = "presumption_of_denial", False
            elif action == "revenue_share":
                a.conditions.append(f"{ev.get('conditions') or ev.get('summary')} "
                                    f"({ev['event_id']})")
            else:
                continue
            a.cite(ev["event_id"], ev["source_ids"])
        listed = self._listing({who.entity_id, *who.parents} - {None}, on)
        if listed is not None:
            a.us_gate, a.permitted = "presumption_of_denial", False
            a.conditions.append(f"{listed['who']} on the US Entity List since {listed['since']}")
            a.cite(None, listed["source_ids"])

    def _listing(self, ids: set[str], on: dt.date) -> dict | None:
        """The earliest US Entity List listing among ``ids`` in force on ``on``.

        A listing is in force from ``entity_list_date``, the first day of its period
        (``entity_list_precision``); a month-precision listing reads ``since 2023-03``.
        """
        best = None
        for eid in sorted(ids):
            row = self.entities.get(eid, {})
            since = row.get("entity_list_date")
            if since is None or since > on or (best and best["date"] <= since):
                continue
            precision = row.get("entity_list_precision") or "day"
            text = {"month": since.strftime("%Y-%m"), "year": str(since.year)}.get(
                precision, since.isoformat())
            best = {"date": since, "since": text, "who": row.get("name") or eid,
                    "source_ids": _ids(row.get("entity_list_source_ids"))}
        return best


def _vintage(classes: list[dict], on: dt.date) -> dict | None:
    """The chip's classification row under the rule vintage in force on ``on``."""
    for row in classes:
        eff, sup = row.get("effective_date"), row.get("superseded_date")
        if eff is not None and eff <= on and (sup is None or sup > on):
            return row
    return None


def _china_side(a: _Answer, events: list[dict], who: _Buyer) -> None:
    for ev in events:
        gate = CHINA_ACTION_GATE.get(ev["action"])
        if ev["jurisdiction"] != "CN" or gate is None or not who.reached_by(ev["entity_ids"]):
            continue
        a.china_gate = gate
        if gate == "conditionally_approved":
            said = "; ".join(x for x in (_quantity(ev), ev.get("conditions")) if x)
            if said:
                a.conditions.append(f"{said} ({ev['event_id']})")
        a.cite(ev["event_id"], ev["source_ids"])


def _verdict(model: str, buyer: str, on: dt.date, a: _Answer) -> str:
    return (f"{model} for {buyer} on {on.isoformat()}: {_US_WORDS[a.us_gate]}; "
            f"{_CN_WORDS[a.china_gate]}.")


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
        The datasets of one release. ``entities`` may carry ``entity_list_date``,
        ``entity_list_precision`` and ``entity_list_source_ids`` (US Entity List
        listings); releases without them answer without listings.

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
    book = GateBook.of(classification=classification, chips=chips, approvals=approvals,
                       entities=entities)
    rows = [book.answer(c, b, d) for c in chip_ids for b in buyer_ids for d in dates]
    return pl.DataFrame([{k: r[k] for k in COLUMNS} for r in rows], schema=COLUMNS,
                        orient="row")


def gate_status(chip_id: str, buyer_id: str, on: dt.date | str, *,
                release: str = "latest") -> pl.DataFrame:
    """Both gates for one chip, buyer and date, from a release opened for the purpose.

    Opens ``release`` through the release door (:meth:`analytics.Release.open`, verified
    once per process), classifies its chips under its rules and answers as
    :func:`gate_matrix`. Analysis code that already holds the frames calls
    :func:`gate_matrix` instead.

    Parameters
    ----------
    chip_id : str
        A ``chips.chip_id``, e.g. ``"nvidia_h20_96gb"``.
    buyer_id : str
        An ``entities.entity_id``, e.g. ``"bytedance"``.
    on : date or ISO str
    release : str
        ``"latest"``, a release id, or ``"draft"``.

    Returns
    -------
    polars.DataFrame
        One row, the columns of :func:`gate_matrix`.

    Examples
    --------
    >>> row = gate_status("nvidia_b200_hgx", "alibaba", "2026-02-15", release="2026-11-29")
    >>> row.item(0, "us_gate"), "APR-033" in row.item(0, "event_ids")
    ('presumption_of_denial', True)
    """
    from analytics.compute import classify
    from analytics.release import Release

    rel = Release.open(release)
    t = {n: rel.table(n) for n in ("chips", "control_rules", "approvals", "entities")}
    classification = classify(t["chips"], t["control_rules"], entities=t["entities"])
    return gate_matrix([chip_id], [buyer_id], [on], classification=classification,
                       chips=t["chips"], approvals=t["approvals"], entities=t["entities"])
