# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Release changes
#
# What changed between this release and the one before it (rows, figures and sources),
# how fresh is the data, how well is every figure supported by a quote, and how complete
# and how confident is the data?

# %% tags=["parameters"]
release = "latest"

# %%
import polars as pl
from IPython.display import display

import analytics
from analytics import charts

analytics.notebook_setup()
current = analytics.resolve(release)
earlier = [r for r in analytics.releases() if analytics.release_order(r) < analytics.release_order(current)]
previous = earlier[-1] if earlier else None
print(f"release {current}; compared with: {previous or 'nothing (this is the first release)'}")
facts = analytics.Release.open(current).tables()

# %% [markdown]
# ## Data cutoff
#
# The latest event the release records (an approval, the start of a shipment period, an
# estimate's date, a rule, a chip launch) and its latest dated source. A release dated
# later than both holds nothing newer.

# %%
analytics.data_cutoff(facts)

# %% [markdown]
# ## Evidence for every figure
#
# Per dataset, how many numeric figures a verbatim quote states, how many are derived or
# assumed (with how, in the evidence table), and how many have no support.

# %%
if "evidence" in facts:
    display(analytics.evidence_coverage(facts))
else:
    print(f"{current}: this release predates the evidence table; its rows cite whole "
          "sources, without a quote for each figure.")

# %% [markdown]
# ## Rows added, removed and changed
#
# Per dataset, by primary key. A release is a knowledge snapshot: rows appear as their
# sources become public, and change as later sources correct them.

# %%
if previous is None:
    print("There is no earlier release to compare with.")
    changes = pl.DataFrame(schema={"dataset": pl.String, "key": pl.String,
                                   "change": pl.String, "column": pl.String,
                                   "old": pl.String, "new": pl.String})
else:
    before = analytics.Release.open(previous).names
    for name in (n for n in facts if n not in before):
        print(f"{name}: a new dataset in this release, {facts[name].height} rows")
    diffs = {name: analytics.diff(name, previous, current) for name in facts if name in before}
    for d in diffs.values():
        print(d.summary())
    changes = pl.concat(
        [d.to_frame().select(pl.lit(name).alias("dataset"), pl.all())
         for name, d in diffs.items()]
    ).sort("dataset", "key", "change", "column", nulls_last=True)
    display(charts.release_diff(changes, title=f"What changed from {previous} to {current}"))

# %% [markdown]
# ## Figures that changed
#
# Every changed cell outside the source lists and notes, with its old and new value.

# %%
changes.filter(
    (pl.col("change") == "changed")
    & ~pl.col("column").is_in(["source_ids", "notes", "confidence"])
).select("dataset", "key", "column", "old", "new")

# %% [markdown]
# ## Sources added and removed

# %%
sources = analytics.load("sources", release=current)
changes.filter(pl.col("dataset") == "sources").select("key", "change").unique().join(
    sources.select(pl.col("source_id").alias("key"), "title", "publisher", "published_date",
                   "source_type"),
    on="key", how="left",
).sort("change", "key")

# %% [markdown]
# ## Rows whose sources or confidence changed

# %%
changes.filter(pl.col("column").is_in(["source_ids", "confidence"])).select(
    "dataset", "key", "column", "old", "new"
)

# %% [markdown]
# ## Coverage and confidence
#
# Rows per dataset by confidence, the kinds of source cited, and how many chips carry each
# specification figure.

# %%
pl.concat(
    [df.group_by("confidence").len().select(pl.lit(name).alias("dataset"), pl.all())
     for name, df in facts.items() if "confidence" in df.columns]
).pivot(on="confidence", index="dataset", values="len", sort_columns=True).fill_null(0).sort(
    "dataset"
)

# %%
facts["sources"].group_by("source_type", "date_precision").len().pivot(
    on="date_precision", index="source_type", values="len", sort_columns=True
).fill_null(0).sort("source_type")

# %%
facts["chips"].select(
    pl.len().alias("chips"),
    *[pl.col(c).is_not_null().sum() for c in (
        "bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "memory_bw_gbps",
        "interconnect_gbps", "die_area_mm2", "tdp_w")],
)
