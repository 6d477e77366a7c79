"""Evidence for every figure: which figures need it, what the quotes cover, what was known when.

Each numeric figure of ``chips``, ``approvals``, ``shipments``, ``lab_compute`` and
``parameters`` must be either *stated* by the verbatim quote of an ``evidence`` row (the
quote contains the number as the document writes it, see :mod:`analytics.numbers`) or
marked *derived* / *assumed* there with a derivation that says how. :func:`coverage`
lists every figure with its status; :func:`findings_frame` turns the unsupported ones
into error findings.

>>> approvals = pl.DataFrame({"event_id": ["APR-048"], "quantity_units": [400000]})
>>> ev = pl.DataFrame({"evidence_id": ["EV-APR-0001"], "dataset": ["approvals"],
...     "record_key": ["APR-048"], "field": ["quantity_units"],
...     "quote": ["over 400,000 H200 chips in total"], "basis": ["stated"],
...     "derivation": [None]}, schema_overrides={"derivation": pl.String})
>>> coverage({"approvals": approvals}, ev).select("field", "status").row(0)
('quantity_units', 'stated')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from analytics.numbers import TOLERANCE as TOLERANCE
from analytics.numbers import numbers_in as numbers_in
from analytics.numbers import stated_in as stated_in
from analytics.vocab import CHIP_SPECS, PRIMARY_KEYS


def _triplet(stem: str, qualifier: str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (f"{stem}_low", stem, f"{stem}_high"), (qualifier or f"{stem}_qualifier",)


#: The figures that need evidence, by dataset, in groups: ``(figures, columns that describe
#: them)``, e.g. a triplet and its qualifier, a chip spec and its basis. A snapshot that
#: empties every figure of a group empties the describing columns too.
FIGURE_GROUPS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "chips": (*(((c,), (f"{c}_basis",)) for c in CHIP_SPECS), (("tpp_stated",), ())),
    "approvals": ((("quantity_units",), ("quantity_qualifier", "quantity_scope")),),
    "shipments": (_triplet("units", "units_qualifier"), _triplet("value_usd", "value_qualifier")),
    "lab_compute": (_triplet("chip_count"), _triplet("gpu_hours"), _triplet("training_flop")),
    "parameters": (_triplet("value", "value_qualifier"),),
}
#: The figures that need evidence: dataset -> (key column, numeric columns).
FIGURES: dict[str, tuple[str, tuple[str, ...]]] = {
    name: (PRIMARY_KEYS[name][0], tuple(c for members, _ in groups for c in members))
    for name, groups in FIGURE_GROUPS.items()
}
#: Datasets whose rows exist only to hold a figure: a snapshot drops a row left without one.
FIGURE_ROWS = ("parameters",)
#: A figure's support, from best to worst.
STATUSES = ("stated", "derived", "assumed", "unmatched", "missing")


def figures(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Every non-empty numeric figure of the fact tables, one row each.

    Parameters
    ----------
    tables : mapping of str to polars.DataFrame
        Dataset name to table; datasets not in :data:`FIGURES` are ignored, and a
        listed column a table lacks is skipped.

    Returns
    -------
    polars.DataFrame
        ``dataset``, ``record_key``, ``field``, ``value`` (Float64), sorted.

    Examples
    --------
    >>> approvals = pl.DataFrame({"event_id": ["APR-048", "APR-001"],
    ...                           "quantity_units": [400000, None]})
    >>> figures({"approvals": approvals}).rows()
    [('approvals', 'APR-048', 'quantity_units', 400000.0)]
    """
    parts = []
    for name, (key, cols) in FIGURES.items():
        df = tables.get(name)
        if df is None:
            continue
        present = [c for c in cols if c in df.columns]
        if not present or key not in df.columns:
            continue
        parts.append(
            df.select(
                pl.lit(name).alias("dataset"), pl.col(key).cast(pl.String).alias("record_key"),
                *[pl.col(c).cast(pl.Float64) for c in present],
            )
            .unpivot(index=["dataset", "record_key"], variable_name="field", value_name="_v")
            .drop_nulls("_v")
            .rename({"_v": "value"})
        )
    schema = {"dataset": pl.String, "record_key": pl.String, "field": pl.String,
              "value": pl.Float64}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).sort("dataset", "record_key", "field")


def _status(value: float, rows: Iterable[dict]) -> tuple[str, str | None]:
    """The best support among a figure's evidence rows, and the evidence id giving it."""
    best: tuple[int, str, str | None] = (len(STATUSES) - 1, "missing", None)
    for r in rows:
        basis = r["basis"]
        if basis == "stated":
            status = "stated" if stated_in(r["quote"], value) else "unmatched"
        elif basis in ("derived", "assumed") and (r.get("derivation") or "").strip():
            status = basis
        else:
            status = "unmatched"
        rank = STATUSES.index(status)
        if rank < best[0]:
            best = (rank, status, r["evidence_id"])
    return best[1], best[2]


def coverage(tables: Mapping[str, pl.DataFrame], evidence: pl.DataFrame) -> pl.DataFrame:
    """Each figure with the evidence that supports it.

    Parameters
    ----------
    tables : mapping of str to polars.DataFrame
        The fact tables (see :func:`figures`).
    evidence : polars.DataFrame
        The ``evidence`` dataset: ``evidence_id``, ``dataset``, ``record_key``,
        ``field``, ``quote``, ``basis``, ``derivation``.

    Returns
    -------
    polars.DataFrame
        The columns of :func:`figures` plus ``status`` (``stated``: a quote states the
        figure; ``derived`` / ``assumed``: a row says how; ``unmatched``: evidence
        rows exist but none states the figure; ``missing``: no evidence row) and
        ``evidence_id`` of the row that gives the status.

    Examples
    --------
    >>> approvals = pl.DataFrame({"event_id": ["APR-048"], "quantity_units": [400000]})
    >>> ev = pl.DataFrame({"evidence_id": ["EV-APR-0001"], "dataset": ["approvals"],
    ...     "record_key": ["APR-048"], "field": ["quantity_units"],
    ...     "quote": ["more than 400,000 H200 chips"], "basis": ["stated"],
    ...     "derivation": [None]})
    >>> coverage({"approvals": approvals}, ev)["status"].to_list()
    ['stated']
    """
    figs = figures(tables)
    by_figure: dict[tuple[str, str, str], list[dict]] = {}
    for r in evidence.filter(pl.col("field").is_not_null()).iter_rows(named=True):
        by_figure.setdefault((r["dataset"], r["record_key"], r["field"]), []).append(r)
    status, ids = [], []
    for ds, key, field, value in figs.iter_rows():
        s, i = _status(value, by_figure.get((ds, key, field), ()))
        status.append(s)
        ids.append(i)
    return figs.with_columns(
        pl.Series("status", status, dtype=pl.String),
        pl.Series("evidence_id", ids, dtype=pl.String),
    )


def coverage_summary(cov: pl.DataFrame) -> pl.DataFrame:
    """Figures per dataset by status, with the share stated.

    Parameters
    ----------
    cov : polars.DataFrame
        The output of :func:`coverage`.

    Returns
    -------
    polars.DataFrame
        One row per dataset: ``figures`` and one count column per status, and
        ``stated_share`` (0 to 1), sorted by dataset.

    Examples
    --------
    >>> cov = pl.DataFrame({"dataset": ["chips", "chips"], "status": ["stated", "derived"]})
    >>> coverage_summary(cov).select("dataset", "figures", "stated", "stated_share").rows()
    [('chips', 2, 1, 0.5)]
    """
    counts = [(pl.col("status") == s).sum().cast(pl.Int64).alias(s) for s in STATUSES]
    return (
        cov.group_by("dataset")
        .agg(pl.len().cast(pl.Int64).alias("figures"), *counts)
        .with_columns((pl.col("stated") / pl.col("figures")).alias("stated_share"))
        .sort("dataset")
    )


def findings_frame(cov: pl.DataFrame) -> pl.DataFrame:
    """An error finding for every figure no evidence supports, from the output of
    :func:`coverage`.

    Returns
    -------
    polars.DataFrame
        Finding rows (``severity``, ``dataset``, ``key``, ``column``, ``check``,
        ``value``, ``message``), check ``figure_without_evidence``.

    Examples
    --------
    >>> cov = pl.DataFrame({"dataset": ["approvals"], "record_key": ["APR-048"],
    ...     "field": ["quantity_units"], "value": [400000.0], "status": ["missing"],
    ...     "evidence_id": [None]}, schema_overrides={"evidence_id": pl.String})
    >>> findings_frame(cov)["check"].to_list()
    ['figure_without_evidence']
    """
    bad = cov.filter(pl.col("status").is_in(["missing", "unmatched"]))
    message = (
        pl.when(pl.col("status") == "missing")
        .then(pl.lit("no evidence row supports this figure: add an evidence row whose "
                     "verbatim quote states it, or one marked derived/assumed that says how"))
        .otherwise(pl.format(
            "no evidence quote states this figure ({} and others compared at any power of "
            "1000 within 1.5%): quote the passage that states it, correct the figure, or "
            "mark the evidence derived/assumed with how", pl.col("evidence_id")))
    )
    return bad.select(
        pl.lit("error").alias("severity"),
        pl.col("dataset"),
        pl.col("record_key").alias("key"),
        pl.col("field").alias("column"),
        pl.lit("figure_without_evidence").alias("check"),
        pl.col("value").map_elements(lambda v: f"{v:g}", return_dtype=pl.String).alias("value"),
        message.alias("message"),
    ).sort("dataset", "key", "column")


def evidence_coverage(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """How the figures of a release are supported, per dataset: the coverage table.

    Parameters
    ----------
    tables : mapping of str to polars.DataFrame
        A release's tables, ``evidence`` among them (e.g. ``Release.open(r).tables()``).

    Returns
    -------
    polars.DataFrame
        One row per dataset with figures: ``figures``, ``stated``, ``derived``,
        ``assumed``, ``missing`` (no quote states it and no derivation says how) and
        ``stated_share`` (0 to 1), sorted by dataset.

    Raises
    ------
    ValueError
        ``tables`` holds no ``evidence`` table (a release cut before it existed).

    Examples
    --------
    >>> apr = pl.DataFrame({"event_id": ["APR-048", "APR-052"],
    ...                     "quantity_units": [400_000, 75_000]})
    >>> ev = pl.DataFrame({"evidence_id": ["EV-APR-0001"], "dataset": ["approvals"],
    ...     "record_key": ["APR-048"], "field": ["quantity_units"],
    ...     "quote": ["over 400,000 H200 chips"], "basis": ["stated"], "derivation": [None]},
    ...     schema_overrides={"derivation": pl.String})
    >>> evidence_coverage({"approvals": apr, "evidence": ev}).row(0)
    ('approvals', 2, 1, 0, 0, 1, 0.5)
    """
    if "evidence" not in tables:
        raise ValueError("these tables hold no evidence table: the release predates it")
    summary = coverage_summary(coverage(tables, tables["evidence"]))
    return summary.select(
        "dataset", "figures", "stated", "derived", "assumed",
        (pl.col("unmatched") + pl.col("missing")).alias("missing"), "stated_share",
    )


# --------------------------------------------------------------------------- knowledge snapshots
def unknown_figures(evidence: pl.DataFrame, public: pl.Series) -> pl.DataFrame:
    """The figures that were not known when only the sources ``public`` were public.

    A figure was unknown when it has evidence rows and every one of them cites a source
    not in ``public``. A figure with no evidence row is not listed (nothing says when
    it became known).

    Parameters
    ----------
    evidence : polars.DataFrame
        The whole ``evidence`` dataset (``dataset``, ``record_key``, ``field``,
        ``source_id``).
    public : polars.Series
        The ``source_id`` of every source public on the snapshot's date.

    Returns
    -------
    polars.DataFrame
        ``dataset``, ``record_key``, ``field``, sorted.

    Examples
    --------
    >>> ev = pl.DataFrame({"dataset": ["chips"] * 3, "record_key": ["x", "x", "y"],
    ...     "field": ["tdp_w", "tdp_w", "tdp_w"], "source_id": ["early", "late", "late"]})
    >>> unknown_figures(ev, pl.Series(["early"])).rows()
    [('chips', 'y', 'tdp_w')]
    """
    return (
        evidence.filter(pl.col("field").is_not_null())
        .group_by("dataset", "record_key", "field")
        .agg(pl.col("source_id").is_in(public.implode()).any().alias("_known"))
        .filter(~pl.col("_known"))
        .select("dataset", "record_key", "field")
        .sort("dataset", "record_key", "field")
    )


def forget_figures(
    tables: Mapping[str, pl.DataFrame], unknown: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """``tables`` with every figure of ``unknown`` emptied.

    When no figure of a group is left in a row (see :data:`FIGURE_GROUPS`), the columns
    that describe the group (qualifier, basis, scope) are emptied too; a row of
    :data:`FIGURE_ROWS` left without any figure is dropped.

    Parameters
    ----------
    tables : mapping of str to polars.DataFrame
        Datasets by name; those without figures are returned as they are.
    unknown : polars.DataFrame
        ``dataset``, ``record_key``, ``field``, as :func:`unknown_figures` returns.

    Returns
    -------
    dict of str to polars.DataFrame

    Examples
    --------
    >>> shp = pl.DataFrame({"record_id": ["SHP-001", "SHP-002"], "units_low": [1, None],
    ...     "units": [2, 5], "units_high": [3, None], "units_qualifier": ["range", "about"]})
    >>> gone = pl.DataFrame({"dataset": ["shipments"] * 2, "record_key": ["SHP-002"] * 2,
    ...     "field": ["units", "units_low"]})
    >>> forget_figures({"shipments": shp}, gone)["shipments"].rows()
    [('SHP-001', 1, 2, 3, 'range'), ('SHP-002', None, None, None, None)]
    """
    out = dict(tables)
    for name, groups in FIGURE_GROUPS.items():
        df, gone = tables.get(name), unknown.filter(pl.col("dataset") == name)
        if df is None or gone.is_empty():
            continue
        key = pl.col(FIGURES[name][0]).cast(pl.String)
        forgot = {
            c: key.is_in(gone.filter(pl.col("field") == c)["record_key"].implode())
            for members, _ in groups for c in members if c in df.columns
        }
        cleared = [pl.when(f).then(None).otherwise(pl.col(c)).alias(c) for c, f in forgot.items()]
        described = []
        for members, describing in groups:
            present = [c for c in members if c in forgot]
            if not present:
                continue
            left = pl.any_horizontal(pl.col(c).is_not_null() & ~forgot[c] for c in present)
            emptied = pl.any_horizontal(forgot[c] for c in present) & ~left
            described += [pl.when(emptied).then(None).otherwise(pl.col(d)).alias(d)
                          for d in describing if d in df.columns]
        df = df.with_columns(*cleared, *described)
        if name in FIGURE_ROWS:
            df = df.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in forgot))
        out[name] = df
    return out
