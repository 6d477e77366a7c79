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
# # Export controls
#
# Where does every chip sit against each US rule vintage's thresholds for total processing
# performance (TPP) and performance density, and which China-specific designs sit just
# under a line?

# %% tags=["parameters"]
release = "latest"

# %%
import polars as pl
from IPython.display import display

import analytics
from analytics import charts

analytics.notebook_setup()
chips = analytics.load("chips", release=release)
rules = analytics.load("control_rules", release=release)
entities = analytics.load("entities", release=release)
classified = analytics.classify(chips, rules, entities=entities)  # non-US designs: not_applicable
vintages = rules.select("rule_id", "rule_name", "effective_date").unique().sort("effective_date")
vintages

# %% [markdown]
# ## Every chip against each vintage's thresholds
#
# TPP against performance density, both on log scales. The shaded rectangles are the
# vintage's classification clauses (an open bound runs to the edge of the plot); the
# point shape is the chip's class under that vintage. Chips without a known die area
# have no density and are listed in the table below instead.

# %%
for rule_id in vintages.get_column("rule_id"):
    display(
        charts.tpp_density_scatter(
            chips, rules.filter(pl.col("rule_id") == rule_id), rule_id=rule_id,
            title=f"TPP against performance density under {rule_id}",
        )
    )

# %% [markdown]
# ## Class and China licence policy of every chip, by vintage

# %%
(
    classified.join(chips.select("chip_id", "model", "china_specific"), on="chip_id")
    .pivot(on="rule_id", index=["chip_id", "model", "china_specific", "tpp",
                                "performance_density"],
           values="eccn_class", sort_columns=True)
    .sort("tpp", "chip_id", descending=[True, False], nulls_last=True)
)

# %%
classified.filter(pl.col("china_licence_policy").is_not_null()).select(
    "rule_id", "chip_id", "tpp", "eccn_class", "china_licence_policy"
).sort("rule_id", "china_licence_policy", "chip_id")

# %% [markdown]
# ## China-specific designs just under a line
#
# For every China-specific chip and every classification clause it does not meet, the
# chip's TPP, density and interconnect bandwidth (the October 2022 test the A800 and H800
# were cut to pass) as a share of the clause's minimums; `share_of_line` is the
# smallest of them (a clause holds only when every minimum is met). The closer
# `share_of_line` is to 1, the closer the design sits under that line.

# %%
china_specific = chips.filter("china_specific").select("chip_id", "model")
analytics.share_of_line(classified.join(china_specific, on="chip_id"), rules).select(
    "chip_id", "model", "rule_id", "eccn_class", "clause", "tpp", "tpp_min",
    "performance_density", "pd_min", "interconnect_gbps", "interconnect_min_gbps",
    "tpp_share", "pd_share", "interconnect_share", "share_of_line",
)
