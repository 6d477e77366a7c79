"""The figures a reader looks for first, each with its qualifier, date and evidence.

The report's front page shows them: the H200s each government approved and what was
ordered and delivered against the largest approval, China's AI compute stock
(:func:`analytics.compute_stock`) at the release's quarter, how many chips fall in each
class of each US rule vintage, and the data's cutoff (the latest decision and the
latest source). Every figure keeps its qualifier and scope (``≥ 400,000 combined``), names
the date it holds for, the rows it comes from, their sources and the page that shows
the evidence. The functions take the release's tables; they load nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from analytics.compute import classify
from analytics.formatting import interval_text, number_text, quantity_text
from analytics.reconciliation import reconcile
from analytics.rules import period_end
from analytics.stock import TOTAL, compute_stock
from analytics.stock_inputs import missing_stock_inputs, quarter_index, quarter_label

H200 = "nvidia_h200_sxm_141gb"
GATE_WORDS = {"cn_import_approval": "China's import approval",
              "us_export_licence": "US export licences"}
# pages of the report that show the evidence (notebook names)
APPROVALS_PAGE = "02-approvals-vs-shipments"
CONTROLS_PAGE = "03-export-controls"
TIMELINE_PAGE = "01-policy-timeline"
STOCK_PAGE = "06-china-compute"
STOCK_DRAWS = 2000


@dataclass(frozen=True)
class KeyNumber:
    """One figure of the front page.

    ``value`` is the figure as read (qualifier, scope, interval); ``as_of`` the date it
    holds for; ``rows`` the dataset rows it comes from; ``page`` the report page (a
    notebook's name) with the evidence; ``source_ids`` the sources of those rows;
    ``breakdown`` the counts a figure adds up, by class (chips under a rule).
    """

    label: str
    value: str
    detail: str
    as_of: dt.date | None
    rows: tuple[str, ...]
    page: str
    source_ids: tuple[str, ...]
    breakdown: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Cutoff:
    """How recent the data is: the latest decision and the latest source of a release."""

    event_date: dt.date | None
    event_id: str | None
    event_summary: str | None
    source_date: dt.date | None
    source_id: str | None
    source_title: str | None


def _names(entities: pl.DataFrame, ids: Sequence[str] | None) -> str:
    known = dict(entities.select("entity_id", "name").iter_rows())
    names = sorted(known.get(i, i) for i in ids or ())
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _ids(*lists: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for ids in lists for s in ids or ()))


def h200_figures(tables: Mapping[str, pl.DataFrame]) -> list[KeyNumber]:
    """H200s approved at each gate, and what was ordered and delivered against the largest.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        ``approvals``, ``shipments``, ``chips`` and ``entities`` of one release.

    Returns
    -------
    list of KeyNumber
        One per approval that sets a quantity (by date), then the orders and the
        confirmed deliveries of the buyers of the largest one.
    """
    entities = tables["entities"]
    rec = reconcile(tables["approvals"], tables["shipments"], chips=tables["chips"],
                    entities=entities)
    h200 = rec.filter(pl.col("chip_ids").list.contains(H200)
                      & pl.col("approved_quantity").is_not_null()).sort("date", "event_id")
    out = [
        KeyNumber(
            label=f"H200s approved: {GATE_WORDS.get(r['gate'] or '', r['jurisdiction'])}",
            value=quantity_text(r["approved_quantity"], r["approved_qualifier"],
                                r["approved_scope"]),
            detail=f"for {_names(entities, r['buyer_ids']) or 'unnamed buyers'}",
            as_of=r["date"], rows=(r["event_id"],), page=APPROVALS_PAGE,
            source_ids=_ids(r["approval_source_ids"]),
        )
        for r in h200.iter_rows(named=True)
    ]
    if h200.is_empty():
        return out
    big = h200.sort("approved_quantity", "date", descending=[True, False]).row(0, named=True)
    buyers = _names(entities, big["buyer_ids"]) or "the same buyers"
    if big["ordered_units"] is not None:
        out.append(KeyNumber(
            label="H200s ordered",
            value=quantity_text(big["ordered_units"], big["ordered_units_qualifier"]),
            detail=f"by {buyers}, against {big['event_id']}", as_of=None,
            rows=_ids(big["order_record_ids"]), page=APPROVALS_PAGE,
            source_ids=_ids(big["order_source_ids"])))
    delivered = big["confirmed_delivered"]
    out.append(KeyNumber(
        label="H200s delivered (confirmed)",
        value=(quantity_text(delivered, big["confirmed_delivered_qualifier"])
               if delivered is not None else "none confirmed"),
        detail=f"to {buyers}, against {big['event_id']}", as_of=big["delivered_through"],
        rows=_ids(big["delivery_record_ids"]), page=APPROVALS_PAGE,
        source_ids=_ids(big["delivery_source_ids"])))
    return out


def chips_by_rule(chips: pl.DataFrame, rules: pl.DataFrame) -> list[KeyNumber]:
    """How many chips each US rule vintage puts in each class (3A090.a, .b, none, unknown).

    Parameters
    ----------
    chips, rules : DataFrame
        ``chips`` and ``control_rules`` of one release.

    Returns
    -------
    list of KeyNumber
        One per vintage, by effective date.

    Examples
    --------
    >>> import analytics
    >>> figures = chips_by_rule(analytics.load("chips"), analytics.load("control_rules"))
    >>> figures[0].label.startswith("Chips under ")
    True
    """
    classified = classify(chips, rules)
    vintages = (rules.group_by("rule_id")
                .agg(pl.col("effective_date").min(), pl.col("rule_name").first(),
                     pl.col("source_ids").list.explode(keep_nulls=False, empty_as_null=False)
                     .unique().sort())
                .sort("effective_date", "rule_id"))
    out = []
    for v in vintages.iter_rows(named=True):
        counts = (classified.filter(pl.col("rule_id") == v["rule_id"])
                  .group_by("eccn_class").len().sort("eccn_class"))
        value = " · ".join(f"{c} {number_text(n)}" for c, n in counts.iter_rows())
        out.append(KeyNumber(
            label=f"Chips under {v['rule_id']}", value=value or "no chip",
            detail=v["rule_name"] or "", as_of=v["effective_date"], rows=(v["rule_id"],),
            page=CONTROLS_PAGE, source_ids=tuple(v["source_ids"] or ()),
            breakdown=tuple(counts.iter_rows())))
    return out


def _three(x: float | None) -> float | None:
    return None if x is None else float(f"{x:.3g}")


def _quarter_end(label: str) -> dt.date:
    """The last day of a quarter such as ``"2026Q3"``."""
    first = dt.date(int(label[:4]), 3 * int(label[-1]) - 2, 1)
    return pl.select(period_end(pl.lit(first), pl.lit("quarter"))).item()


def stock_figure(tables: Mapping[str, pl.DataFrame], on: dt.date) -> KeyNumber:
    """China's AI compute stock in H100 equivalents at the last quarter ended by ``on``.

    The total of :func:`analytics.compute_stock` (no H200 delivered beyond the recorded
    deliveries), its 50th percentile with the 5th to 95th, to three significant figures.
    A release without the model's inputs says which it lacks.

    Examples
    --------
    >>> import analytics, datetime as dt
    >>> k = stock_figure(analytics.Release.open("draft").tables(), dt.date(2026, 3, 1))
    >>> k.label, k.as_of
    ("China's AI compute stock, 2025Q4", datetime.date(2025, 12, 31))
    """
    label = "China's AI compute stock"
    missing = missing_stock_inputs(tables)
    if missing:
        return KeyNumber(label=label, value="not estimated",
                         detail=f"this release predates the model's inputs: "
                                f"{' and '.join(missing)}",
                         as_of=None, rows=(), page=STOCK_PAGE, source_ids=())
    stock = compute_stock(tables, draws=STOCK_DRAWS)
    index = quarter_index(f"{on.year}Q{(on.month - 1) // 3 + 1}")
    index -= _quarter_end(quarter_label(index)) > on  # the last quarter ended by then
    row = (stock.filter((pl.col("channel") == TOTAL)
                        & (pl.col("quarter") <= quarter_label(index)))
           .sort("quarter").tail(1).row(0, named=True))
    end = _quarter_end(row["quarter"])
    used = tables["shipments"].filter(pl.col("stock_channel").is_not_null())
    sources = _ids(*used.get_column("source_ids").to_list(),
                   *tables["parameters"].get_column("source_ids").to_list())
    value = interval_text(_three(row["h100e_p50"]), _three(row["h100e_p5"]),
                          _three(row["h100e_p95"]))
    return KeyNumber(
        label=f"{label}, {row['quarter']}", value=f"{value} H100e",
        detail=f"{row['basis']}; 50th (5th–95th) percentile; no H200 delivered beyond "
               "those recorded",
        as_of=end, rows=tuple(used.get_column("record_id").to_list()), page=STOCK_PAGE,
        source_ids=sources)


def cutoff(approvals: pl.DataFrame, sources: pl.DataFrame) -> Cutoff:
    """The latest decision (``approvals``) and the latest published source of a release.

    Examples
    --------
    >>> import analytics
    >>> c = cutoff(analytics.load("approvals"), analytics.load("sources"))
    >>> c.event_date <= c.source_date
    True
    """
    event = approvals.sort("date", "event_id", nulls_last=False).tail(1)
    source = (sources.filter(pl.col("published_date").is_not_null())
              .sort("published_date", "source_id").tail(1))

    def one(df: pl.DataFrame, col: str) -> object:
        return df.item(0, col) if df.height else None

    return Cutoff(one(event, "date"), one(event, "event_id"), one(event, "summary"),
                  one(source, "published_date"), one(source, "source_id"),
                  one(source, "title"))


def key_numbers(tables: Mapping[str, pl.DataFrame], on: dt.date) -> list[KeyNumber]:
    """Every key number of the front page, in reading order.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Every dataset of one release.
    on : date
        The release's date (the compute stock is shown at its quarter).

    Returns
    -------
    list of KeyNumber
    """
    return [*h200_figures(tables), stock_figure(tables, on),
            *chips_by_rule(tables["chips"], tables["control_rules"])]
