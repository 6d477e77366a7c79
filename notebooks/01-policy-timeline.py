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
# # Policy timeline
#
# How did US and Chinese decisions on AI chips for China unfold from 2022 to 2026: the H20
# ban, its reversal and the revenue share, and the two gates an H200 had to pass in
# January 2026?

# %% tags=["parameters"]
release = "latest"

# %%
import polars as pl

import analytics
from analytics import charts
from analytics.reconciliation import GATES, timeline

analytics.notebook_setup()
H20, H200 = "nvidia_h20_96gb", "nvidia_h200_sxm_141gb"
approvals = analytics.load("approvals", release=release)
events = timeline(approvals)
COLUMNS = ["event_id", "date", "date_precision", "jurisdiction", "action", "entities",
           "summary", "status_as_reported", "source_ids"]

# %% [markdown]
# ## Every decision on one timeline
#
# One lane per jurisdiction and action, coloured by action. A decision known only to the
# month or quarter is drawn as a bar over that period. Hover over a mark for its summary
# and sources.

# %%
charts.policy_timeline(events)

# %% [markdown]
# ## The H20: ban, reversal, revenue share
#
# Every decision that names the H20, in date order: the licence requirement, the
# reversal, the revenue-share arrangement, and Beijing's answers.

# %%
h20 = timeline(approvals.filter(pl.col("chip_ids").list.contains(H20)))
charts.policy_timeline(h20, title="Decisions naming the H20")

# %%
h20.select(COLUMNS)

# %% [markdown]
# ### Revenue-share decisions
#
# The arrangements under which chip sales to China pay a share of revenue to the US
# government, with the chips they name.

# %%
events.filter(pl.col("action") == "revenue_share").select(["chips", *COLUMNS])

# %% [markdown]
# ## The H200 and its two gates
#
# An H200 reaches a Chinese buyer only through two gates: a US export licence and a
# Chinese import approval. These are the decisions naming the H200 from December 2025 to
# February 2026, with the gate each one belongs to.

# %%
h200 = timeline(
    approvals.filter(
        pl.col("chip_ids").list.contains(H200)
        & pl.col("date").is_between(pl.date(2025, 12, 1), pl.date(2026, 2, 28))
    )
).with_columns(gate=pl.col("jurisdiction").replace_strict(GATES, default=None))
charts.policy_timeline(h200, title="Decisions naming the H200, December 2025 to February 2026")

# %%
h200.select(["gate", *COLUMNS]).sort("date", "gate", "event_id")

# %% [markdown]
# ## Decisions by jurisdiction and action
#
# How many decisions of each kind each government took, by year.

# %%
(
    events.with_columns(year=pl.col("date").dt.year())
    .pivot(on="action", index=["jurisdiction", "year"], values="event_id",
           aggregate_function="len", sort_columns=True)
    .fill_null(0)
    .sort("jurisdiction", "year")
)
