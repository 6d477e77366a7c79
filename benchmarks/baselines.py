"""The same work written by hand: the lower bounds the package is measured against.

- :func:`handwritten_checks`: every check of the ``shipments`` contract and of the
  cross-dataset consistency module as plain polars expressions, counted in one pass.
- :func:`handwritten_quarterly`: the quarterly aggregation by buyer and chip with
  sampled intervals, keys in polars and draws in numpy.
- :func:`numpy_sum_intervals`: sampling a lognormal per triplet and taking percentiles
  of the sum, in plain numpy.
- :func:`closed_form_quarterly`: the same aggregation in closed form (summed lognormal
  moments, Fenton-Wilkinson), the lower bound of ``analytics.aggregation.quarterly``.
- :func:`pandas_pipeline`: the contract (pandera's pandas backend) and the closed-form
  aggregation in pandas; :func:`pandas_pipeline_sampled` with sampled intervals.

Interval convention (DESIGN.md): a triplet is the 5th, 50th and 95th percentile; a
lognormal is fitted with ``mu = ln(x)`` and ``sigma = ln(high / low) / (2 * 1.645)``;
sums sample, never add percentiles.

>>> import numpy as np
>>> lo, mid, hi = np.array([90.0]), np.array([100.0]), np.array([110.0])
>>> p5, p50, p95 = numpy_sum_intervals(lo, mid, hi, n=20_000, seed=0)
>>> bool(89 < p5 < p50 < p95 < 112)
True
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

Z95 = 1.6448536269514722
EARLIEST = date(2000, 1, 1)
SHP_ID = r"^SHP-\d{3,}$"
SLUG = r"^[a-z0-9]+(?:_[a-z0-9]+)*$"
SOURCE_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DESTINATION = r"^([A-Z]{2}(\+[A-Z]{2})*|non_CN|unknown)$"
HTML = r"<[A-Za-z/!]"
FORMULA = r"^[=+\-@\t\r]"
ENUMS = {
    "record_type": (
        "order", "purchase_intent", "delivery", "sales_estimate", "production",
        "production_halt", "inventory", "revenue", "charge", "forgone_revenue", "seizure",
        "smuggling",
    ),
    "period_precision": ("day", "month", "quarter", "year"),
    "quantity_scope": ("per_entity", "combined"),
    "units_qualifier": ("exact", "at_least", "at_most", "approx"),
    "value_qualifier": ("exact", "at_least", "at_most", "approx"),
    "method": ("disclosed", "reported", "estimated", "alleged", "derived"),
    "confidence": ("high", "medium", "low"),
    "stock_channel": (
        "exported_pre_control", "china_specific", "under_licence", "smuggled", "domestic",
    ),
}
NOT_NULL = (
    "record_id", "record_type", "period_start", "period_end", "period_precision", "chip_ids",
    "product_scope", "vendor_id", "buyer_ids", "buyer_scope", "destination", "method",
    "source_ids", "confidence",
)
TRIPLETS = ("units", "value_usd")


def _triplet_bad(stem: str) -> pl.Expr:
    lo, mid, hi = pl.col(f"{stem}_low"), pl.col(stem), pl.col(f"{stem}_high")
    return ((lo > mid) | (mid > hi) | (lo > hi)).fill_null(False)


def contract_exprs() -> list[pl.Expr]:
    """Violation counts of every check of the ``shipments`` contract."""
    c = pl.col
    out = [c(col).is_null().sum().alias(f"not_null:{col}") for col in NOT_NULL]
    out += [
        c("record_id").is_duplicated().sum().alias("unique:record_id"),
        (~c("record_id").str.contains(SHP_ID)).sum().alias("format:record_id"),
        (~c("vendor_id").str.contains(SLUG)).sum().alias("format:vendor_id"),
        (~c("destination").str.contains(DESTINATION)).sum().alias("format:destination"),
        (c("period_start") < EARLIEST).sum().alias("ge:period_start"),
        (c("period_end") < EARLIEST).sum().alias("ge:period_end"),
        (c("source_ids").list.len() < 1).sum().alias("sourced"),
        (~c("source_ids").explode().str.contains(SOURCE_ID)).sum().alias("format:source_ids"),
        (c("period_start") > c("period_end")).sum().alias("period_order"),
    ]
    out += [(~c(col).is_in(vals)).sum().alias(f"isin:{col}") for col, vals in ENUMS.items()]
    for stem in TRIPLETS:
        out += [(c(f"{stem}{s}") < 0).sum().alias(f"ge0:{stem}{s}") for s in ("_low", "", "_high")]
        out.append(_triplet_bad(stem).sum().alias(f"triplet:{stem}"))
    return out


def _text_exprs(schema: pl.Schema, *, prefix: str) -> list[pl.Expr]:
    out = []
    for col, dtype in schema.items():
        if dtype == pl.String:
            cell = pl.col(col)
        elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
            cell = pl.col(col).explode()
        else:
            continue
        out += [
            cell.str.contains(HTML).sum().alias(f"{prefix}html:{col}"),
            cell.str.contains(FORMULA).sum().alias(f"{prefix}formula:{col}"),
            (cell.str.len_chars() > 2000).sum().alias(f"{prefix}oversized:{col}"),
        ]
    return out


def consistency_plans(t: dict[str, pl.LazyFrame], *, release_date: date) -> list[pl.LazyFrame]:
    """The consistency checks that touch ``shipments``, as count queries."""
    shp, chips = t["shipments"], t["chips"]
    ids = {
        "chip_ids": t["chips"].select(pl.col("chip_id").alias("_v")),
        "vendor_id": t["entities"].select(pl.col("entity_id").alias("_v")),
        "buyer_ids": t["entities"].select(pl.col("entity_id").alias("_v")),
        "source_ids": t["sources"].select(pl.col("source_id").alias("_v")),
    }
    plans = []
    for col, ref in ids.items():
        v = shp.select(pl.col(col).alias("_v"))
        if col != "vendor_id":
            v = v.explode("_v")
        dangling = v.drop_nulls().join(ref, on="_v", how="anti")
        plans.append(dangling.select(pl.len().alias(f"fk:{col}")))
    d = pl.lit(release_date, dtype=pl.Date)
    plans.append(shp.select((pl.col("period_start") > d).sum().alias("after_release")))
    launch = chips.select(pl.col("chip_id").alias("_c"), pl.col("release_date").alias("_r"))
    plans.append(
        shp.filter(~pl.col("record_type").is_in(["order", "purchase_intent"]))
        .select(pl.col("chip_ids").alias("_c"), pl.col("period_start").alias("_s"))
        .explode("_c")
        .join(launch, on="_c")
        .select((pl.col("_s").dt.truncate("1mo") < pl.col("_r").dt.truncate("1mo")).sum()
                .alias("before_release"))
    )
    plans.append(
        shp.filter((pl.col("record_type") == "delivery")
                   & pl.col("destination").str.contains(r"(^|\+)CN(\+|$)"))
        .select(pl.col("chip_ids").alias("_c"))
        .explode("_c")
        .join(t["control_rules"].select(pl.col("rule_id").alias("_c")), on="_c", how="semi")
        .select(pl.len().alias("delivery_without_approval"))
    )
    n = pl.col("buyer_ids").list.len()
    scope = pl.col("quantity_scope")
    plans.append(shp.select(
        (((scope == "combined") & (n < 2)) | ((scope == "per_entity") & (n < 1)))
        .fill_null(False).sum().alias("scope_mismatch"),
        ((n >= 2) & scope.is_null()
         & pl.coalesce("units", "units_low", "units_high").is_not_null()).sum()
        .alias("scope_missing"),
    ))
    for name, lf in t.items():
        exprs = _text_exprs(lf.collect_schema(), prefix=f"{name}.")
        if exprs:
            plans.append(lf.select(exprs))
    return plans


def handwritten_checks(tables: dict[str, pl.DataFrame], *, release_date: date) -> dict[str, int]:
    """Every shipments contract and consistency check as polars expressions: name -> count."""
    t = {k: v.lazy() for k, v in tables.items()}
    plans = [t["shipments"].select(contract_exprs()),
             *consistency_plans(t, release_date=release_date)]
    out: dict[str, int] = {}
    for df in pl.collect_all(plans):
        out |= df.row(0, named=True)
    return out


def handwritten_contract(shipments: pl.DataFrame) -> dict[str, int]:
    """Only the ``shipments`` contract's checks, as polars expressions."""
    return shipments.select(contract_exprs()).row(0, named=True)


# --------------------------------------------------------------------------- intervals
def lognormal_params(low: np.ndarray, mid: np.ndarray, high: np.ndarray) -> tuple:
    """``mu`` and ``sigma`` of a lognormal whose 5th/50th/95th percentiles are the triplet."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.log(mid)
        sigma = np.log(high / low) / (2 * Z95)
    return mu, np.nan_to_num(sigma, nan=0.0, posinf=0.0)


def numpy_sum_intervals(low: np.ndarray, mid: np.ndarray, high: np.ndarray, *, n: int,
                        seed: int = 0, q: tuple[float, ...] = (5, 50, 95)) -> np.ndarray:
    """Percentiles of the sum of independent lognormals fitted to each row's triplet."""
    mu, sigma = lognormal_params(low, mid, high)
    rng = np.random.default_rng(seed)
    draws = rng.standard_normal((mid.size, n))
    draws *= sigma[:, None]
    draws += mu[:, None]
    np.exp(draws, out=draws)
    return np.percentile(draws.sum(axis=0), q)


def mc_group_percentiles(low: np.ndarray, mid: np.ndarray, high: np.ndarray,
                         group: np.ndarray, n_groups: int, *, n: int, seed: int = 0,
                         block: int = 1 << 18) -> np.ndarray:
    """5/50/95 percentiles of per-group sums of lognormal draws; rows sorted by group.

    Draws ``n`` samples per row in blocks of rows and adds them per group with
    ``np.add.reduceat``: shape ``(n_groups, 3)``.
    """
    lo = np.where(np.isnan(low), mid, low)
    hi = np.where(np.isnan(high), mid, high)
    mid = np.where(np.isnan(mid), np.sqrt(lo * hi), mid)
    mu, sigma = lognormal_params(lo, mid, hi)
    rng = np.random.default_rng(seed)
    totals = np.zeros((n_groups, n))
    step = max(1, block // n)
    for start in range(0, mid.size, step):
        sl = slice(start, start + step)
        draws = rng.standard_normal((mu[sl].size, n))
        draws *= sigma[sl, None]
        draws += mu[sl, None]
        np.exp(draws, out=draws)
        g = group[sl]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        totals[g[starts]] += np.add.reduceat(draws, starts, axis=0)
    return np.percentile(totals, (5, 50, 95), axis=1).T


def quarter_keys(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Quarter, buyer group and chip group of every row (a group stays a group)."""
    return lf.with_columns(
        pl.col("period_start").dt.truncate("1q").alias("quarter"),
        pl.col("buyer_ids").list.join(";").alias("buyers"),
        pl.col("chip_ids").list.join(";").alias("chips"),
    )


def handwritten_quarterly(shipments: pl.DataFrame | pl.LazyFrame, *, n: int,
                          seed: int = 0) -> pl.DataFrame:
    """Units by quarter, buyer group and chip group with a sampled 5-95 interval of the sum.

    Plain polars for the keys and the order, plain numpy for the draws: the least code
    that does what the package does.
    """
    keys = ["quarter", "buyers", "chips"]
    tab = (
        quarter_keys(shipments.lazy())
        .select(*keys, *(pl.col(c).cast(pl.Float64) for c in ("units_low", "units", "units_high")))
        .filter(pl.any_horizontal(pl.col("units_low", "units", "units_high").is_not_null()))
        .sort(keys)
        .with_columns(pl.struct(keys).rle_id().alias("_g"))
        .collect()
    )
    group = tab["_g"].to_numpy()
    n_groups = int(group[-1]) + 1 if group.size else 0
    pct = mc_group_percentiles(*(tab[c].to_numpy() for c in ("units_low", "units", "units_high")),
                               group, n_groups, n=n, seed=seed)
    head = tab.select(*keys, "_g").unique("_g", keep="first").sort("_g").drop("_g")
    return head.with_columns(units_p5=pct[:, 0], units_p50=pct[:, 1], units_p95=pct[:, 2])


def closed_form_quarterly(shipments: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The closed-form quarterly aggregation written by hand in polars (the lower bound).

    Per row, the lognormal fitted to the triplet (the package's fit: wider side with a
    central figure, log midpoint of a range, a lone figure or zero as a point); its mean
    and variance add per quarter, buyer group and chip group (lists as keys); a
    lognormal with the summed moments gives the 5th/50th/95th percentiles
    (Fenton-Wilkinson).
    """
    c, f = pl.col, pl.Float64
    lo, mid, hi = c("units_low").cast(f), c("units").cast(f), c("units_high").cast(f)
    up = pl.when(mid > 0).then((hi / mid).log())
    down = pl.when((lo > 0) & (mid > 0)).then((mid / lo).log())
    sig_c = pl.max_horizontal(up, down).fill_null(0.0) / Z95
    mu_b = pl.when(lo > 0).then((lo.log() + hi.log()) / 2).otherwise((hi / 2).log())
    sig_b = (pl.when(hi <= 0).then(0.0).when(lo > 0).then((hi / lo).log() / (2 * Z95))
             .otherwise(np.log(2.0) / Z95))
    has_c, both = mid.is_not_null(), mid.is_null() & lo.is_not_null() & hi.is_not_null()
    sigma = pl.when(has_c).then(sig_c).when(both).then(sig_b).otherwise(0.0)
    mu = pl.when(has_c).then(mid.log()).otherwise(mu_b)
    s2 = sigma * sigma
    sp = pl.when(sigma > 0)
    keys = ["quarter", "buyer_ids", "chip_ids"]
    m, v, pt = c("_m"), c("_v"), c("_pt")
    s = (1 + v / (m * m)).log().sqrt()
    mu_sum = m.log() - s * s / 2
    empty = c("n_items") == 0

    def pct(q: str, z: float) -> pl.Expr:
        fw = pl.when(v > 0).then((mu_sum + z * s).exp()).otherwise(m)
        best = pt + pl.max_horizontal(fw, c(f"_q{q}").fill_null(0.0))
        return pl.when(empty).then(None).otherwise(best).alias(f"units_p{q}")

    return (
        shipments.lazy()
        .select(c("period_start").dt.truncate("1q").alias("quarter"), "buyer_ids", "chip_ids",
                sp.then((mu + s2 / 2).exp()).otherwise(0.0).alias("_m"),
                sp.then((s2.exp() - 1) * (2 * mu + s2).exp()).otherwise(0.0).alias("_v"),
                sp.then(0.0).otherwise(pl.coalesce(mid, lo, hi)).alias("_pt"),
                sp.then((mu - Z95 * sigma).exp()).alias("_q5"),
                sp.then(mu.exp()).alias("_q50"),
                sp.then((mu + Z95 * sigma).exp()).alias("_q95"),
                pl.coalesce(lo, mid, hi).is_null().alias("_miss"))
        .group_by(keys)
        .agg(m.sum(), v.sum(), pt.sum(), c("_q5", "_q50", "_q95").max(),
             (~c("_miss")).sum().cast(pl.Int64).alias("n_items"),
             c("_miss").sum().cast(pl.Int64).alias("n_missing"))
        .select(*keys, pct("5", -Z95), pct("50", 0.0), pct("95", Z95), "n_items", "n_missing")
        .sort(keys)
        .collect()
    )


# --------------------------------------------------------------------------- pandas
def pandas_schema():
    """The ``shipments`` contract in pandera's pandas backend (same checks)."""
    import pandera.pandas as pa

    def enum(col: str, nullable: bool = False) -> pa.Column:
        return pa.Column(str, pa.Check.isin(ENUMS[col]), nullable=nullable)

    def count(nullable: bool = True) -> pa.Column:
        return pa.Column("Int64", pa.Check.ge(0), nullable=nullable)

    def money() -> pa.Column:
        return pa.Column(float, pa.Check.ge(0), nullable=True)

    def ids(pattern: str | None, *, min_len: int = 0) -> pa.Column:
        import re

        rx = re.compile(pattern) if pattern else None
        checks = [pa.Check(lambda s: s.map(lambda v: len(v) >= min_len), element_wise=False)]
        if rx is not None:
            checks.append(pa.Check(lambda s: s.map(lambda v: all(rx.match(x) for x in v))))
        return pa.Column(object, checks)

    def triplet(stem: str):
        def ok(df):
            lo, mid, hi = df[f"{stem}_low"], df[stem], df[f"{stem}_high"]
            return ~((lo > mid) | (mid > hi) | (lo > hi)).fillna(False).astype(bool)
        return pa.Check(ok)

    return pa.DataFrameSchema(
        {
            "record_id": pa.Column(str, pa.Check.str_matches(SHP_ID), unique=True),
            "record_type": enum("record_type"),
            "period_start": pa.Column("datetime64[ms]", pa.Check.ge(np.datetime64(EARLIEST))),
            "period_end": pa.Column("datetime64[ms]", pa.Check.ge(np.datetime64(EARLIEST))),
            "period_precision": enum("period_precision"),
            "chip_ids": ids(None),
            "product_scope": pa.Column(str),
            "vendor_id": pa.Column(str, pa.Check.str_matches(SLUG)),
            "buyer_ids": ids(None),
            "buyer_scope": pa.Column(str),
            "quantity_scope": enum("quantity_scope", nullable=True),
            "destination": pa.Column(str, pa.Check.str_matches(DESTINATION)),
            "stock_channel": enum("stock_channel", nullable=True),
            "units_low": count(), "units": count(), "units_high": count(),
            "units_qualifier": enum("units_qualifier", nullable=True),
            "value_usd_low": money(), "value_usd": money(), "value_usd_high": money(),
            "value_qualifier": enum("value_qualifier", nullable=True),
            "method": enum("method"),
            "source_ids": ids(SOURCE_ID, min_len=1),
            "confidence": enum("confidence"),
            "notes": pa.Column(str, nullable=True),
        },
        checks=[
            pa.Check(lambda df: df["period_start"] <= df["period_end"]),
            triplet("units"),
            triplet("value_usd"),
        ],
        strict=True,
        coerce=True,
    )


def to_pandas(shipments: pl.DataFrame):
    """The ledger as a pandas frame the way a pandas user holds it (lists as objects)."""
    pdf = shipments.to_pandas()
    for col in ("chip_ids", "buyer_ids", "source_ids"):
        pdf[col] = pdf[col].map(list)
    return pdf


def pandas_closed_form(pdf):
    """The closed-form quarterly aggregation in pandas: the same fit, moments and
    Fenton-Wilkinson percentiles, keys as a pandas user holds lists (joined text)."""
    import pandas as pd

    lo, mid, hi = (pdf[c].astype("float64").to_numpy() for c in ("units_low", "units",
                                                                  "units_high"))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(mid > 0, np.log(hi / mid), np.nan)
        down = np.where((lo > 0) & (mid > 0), np.log(mid / lo), np.nan)
        sig_c = np.nan_to_num(np.fmax(up, down), nan=0.0) / Z95
        mu_b = np.where(lo > 0, (np.log(lo) + np.log(hi)) / 2, np.log(hi / 2))
        sig_b = np.where(hi <= 0, 0.0,
                         np.where(lo > 0, np.log(hi / lo) / (2 * Z95), np.log(2.0) / Z95))
        has_c = ~np.isnan(mid)
        both = ~has_c & ~np.isnan(lo) & ~np.isnan(hi)
        sigma = np.where(has_c, sig_c, np.where(both, sig_b, 0.0))
        mu = np.where(has_c, np.log(mid), mu_b)
        s2 = sigma * sigma
        sp = sigma > 0
        point = np.where(has_c, mid, np.where(np.isnan(lo), hi, lo))
        miss = np.isnan(point)
        work = pd.DataFrame({
            "quarter": pdf["period_start"].dt.to_period("Q"),
            "buyers": pdf["buyer_ids"].map(";".join),
            "chips": pdf["chip_ids"].map(";".join),
            "_m": np.where(sp, np.exp(mu + s2 / 2), 0.0),
            "_v": np.where(sp, (np.exp(s2) - 1) * np.exp(2 * mu + s2), 0.0),
            "_pt": np.where(sp | miss, 0.0, point),
            **{f"_q{q}": np.where(sp, np.exp(mu + z * sigma), 0.0)
               for q, z in ((5, -Z95), (50, 0.0), (95, Z95))},
            "n_items": ~miss, "n_missing": miss,
        })
    g = work.groupby(["quarter", "buyers", "chips"], sort=True).agg(
        {"_m": "sum", "_v": "sum", "_pt": "sum", "_q5": "max", "_q50": "max", "_q95": "max",
         "n_items": "sum", "n_missing": "sum"})
    m, v, pt = g["_m"].to_numpy(), g["_v"].to_numpy(), g["_pt"].to_numpy()
    empty = g["n_items"].to_numpy() == 0
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(np.log1p(v / (m * m)))
        mu_sum = np.log(m) - s * s / 2
        for q, z in ((5, -Z95), (50, 0.0), (95, Z95)):
            fw = np.where(v > 0, np.exp(mu_sum + z * s), m)
            out[f"units_p{q}"] = np.where(empty, np.nan,
                                          pt + np.maximum(fw, g[f"_q{q}"].to_numpy()))
    return g[["n_items", "n_missing"]].assign(**out).reset_index()


def pandas_pipeline(pdf, *, schema=None):
    """Validate with pandera (pandas backend), then the closed-form quarterly aggregation."""
    schema = schema or pandas_schema()
    pdf = schema.validate(pdf, lazy=True)
    return pandas_closed_form(pdf)


def pandas_pipeline_sampled(pdf, *, n: int, seed: int = 0, schema=None):
    """Validate with pandera (pandas backend), then the sampled quarterly aggregation."""
    import pandas as pd

    schema = schema or pandas_schema()
    pdf = schema.validate(pdf, lazy=True)
    work = pd.DataFrame({
        "quarter": pdf["period_start"].dt.to_period("Q"),
        "buyers": pdf["buyer_ids"].map(";".join),
        "chips": pdf["chip_ids"].map(";".join),
        **{c: pdf[c].astype("float64") for c in ("units_low", "units", "units_high")},
    })
    work = work[work[["units_low", "units", "units_high"]].notna().any(axis=1)]
    work = work.sort_values(["quarter", "buyers", "chips"], kind="stable")
    group = work.groupby(["quarter", "buyers", "chips"], sort=False).ngroup().to_numpy()
    n_groups = int(group.max()) + 1 if group.size else 0
    pct = mc_group_percentiles(*(work[c].to_numpy() for c in ("units_low", "units", "units_high")),
                               group, n_groups, n=n, seed=seed)
    head = work.drop_duplicates(["quarter", "buyers", "chips"])[["quarter", "buyers", "chips"]]
    return head.assign(units_p5=pct[:, 0], units_p50=pct[:, 1], units_p95=pct[:, 2])
