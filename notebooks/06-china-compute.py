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
# # China's compute
#
# How much AI compute does China hold, through which channels did it arrive, what would
# the approved H200s change, which gates stand between each chip and each buyer, and how
# does this compare with published estimates?

# %% tags=["parameters"]
release = "latest"

# %%
import polars as pl
from IPython.display import Markdown, display

import analytics

analytics.notebook_setup()
rel = analytics.Release.open(release)
tables = rel.tables()
missing = analytics.missing_stock_inputs(tables)
if missing:
    display(Markdown(
        f"Release {rel.id} predates the stock inputs: it lacks {'; '.join(missing)}. "
        "It shows the gates below; the stock, the H200 scenarios and the comparison with "
        "published estimates need a later release."))
else:
    scenarios = pl.concat([analytics.compute_stock(tables, h200_delivered_share=share)
                           for share in (0.0, 0.5, 1.0)])
    stock = scenarios.filter(pl.col("h200_delivered_share") == 0.0)

# %% [markdown]
# ## The stock by channel
#
# Chips in service in China at the end of each quarter, in H100 equivalents (8-bit basis:
# the larger of a chip's dense FP8 and INT8 throughput over the H100's), by the channel
# they came through: NVIDIA and AMD parts exported before the controls, China-specific
# parts (A800, H20), exports under US licence, smuggled chips, and domestic chips (Huawei
# Ascend, Cambricon). The line is the median, the band the 5th to 95th percentile; the
# total is sampled from the channels' joint draws, never added from their percentiles.
#
# What the model assumes: each flow is one record of `shipments` marked with a
# `stock_channel` (its note says why it is used and which overlapping records are not);
# units come from the record's triplet read under its qualifier ("at least" keeps a
# tail, a stated range is uniform), or from its value over a sourced price; a record that
# names several chips, or none, counts as any mix of them (or of its vendor's parts on
# sale); flows spread evenly over their period; chips retire straight-line over the
# useful life in `parameters` (5 to 6 years, hyperscaler depreciation lives). The
# pre-control channel holds one purchase (High-Flyer's 10,000 A100), so it is a floor.

# %%
if not missing:
    display(analytics.stock_chart(stock, title=f"China's AI compute stock ({rel.id})"))
    display(analytics.stock_derivations(tables).select(
        "record_id", "channel", "period_start", "period_end", "chips_how", "units_from",
        "units_p5", "units_p50", "units_p95", "h100e_per_unit_low", "h100e_per_unit_high",
        "reason"))
    display(tables["parameters"].filter(pl.col("kind") == "assumption").select(
        "parameter_id", "name", "value_low", "value", "value_high", "value_qualifier", "unit",
        "source_ids", "notes"))

# %% [markdown]
# ## What the approved H200s would change
#
# Beijing's conditional approval of at least 400,000 H200s (combined, for three buyers) is
# a bound: the scenarios sample it as one, deliver 0%, 50% or 100% of it over the quarters
# after the approval, net of the H200 deliveries already recorded, and add it to the
# chips under US licence. Side by side, with the total and the licensed channel.

# %%
if not missing:
    display(analytics.stock_chart(scenarios, channels=["under_licence", "total"],
                                  title="The H200 scenarios"))
    display(scenarios.filter(pl.col("quarter").is_in(["2025Q4", "2026Q4"])).select(
        "h200_delivered_share", "quarter", "channel", "units_p50", "h100e_p5", "h100e_p50",
        "h100e_p95", "flops_p50", "basis"))

# %% [markdown]
# ## The gates for the main chips and buyers
#
# For each chip, buyer and date: the US gate (the rule vintage in force, is-informed
# letters, licences granted, the buyer's Entity List listing; not applicable to a chip
# designed outside the United States) and the Chinese gate (approvals, discouragement,
# restrictions, blocks). Each answer cites its events and sources.

# %%
chips, entities = tables["chips"], tables["entities"]
main_chips = [c for c in ("nvidia_h20_96gb", "nvidia_h200_sxm_141gb", "nvidia_b200_hgx",
                          "nvidia_a800_sxm4_80gb", "huawei_ascend_910c")
              if c in chips.get_column("chip_id").to_list()]
buyers = [b for b in ("bytedance", "alibaba", "tencent", "deepseek", "huawei")
          if b in entities.get_column("entity_id").to_list()]
dates = [d for d in ("2022-09-01", "2023-06-01", "2024-06-01", "2025-05-01", "2025-09-01",
                     "2026-02-15", "2026-09-01") if d <= rel.date.isoformat()]
matrix = analytics.gate_matrix(
    main_chips, buyers, dates, chips=chips, approvals=tables["approvals"], entities=entities,
    classification=analytics.classify(chips, tables["control_rules"], entities=entities),
).join(chips.select("chip_id", "model"), on="chip_id", how="left")
display(analytics.gate_chart(matrix))
matrix.filter(pl.col("date") == pl.col("date").max()).select(
    "chip_id", "buyer_id", "date", "us_class", "us_gate", "china_gate", "conditions", "verdict",
    "event_ids", "source_ids")

# %% [markdown]
# ## Against published estimates
#
# Published figures differ from this series in what they count (owned or used, legal or
# smuggled), when, and in which unit, so each is set against the figure of ours that
# counts the same thing:
#
# - Epoch AI's share of global compute owned by Chinese companies (at least 5% of about
#   15 million H100e) excludes smuggled chips: against our stock without the smuggled
#   channel, early 2026.
# - Bernstein's additions in 2025 are sparse FP16 zettaFLOP/s, twice the dense figures
#   used here for NVIDIA parts; its domestic figure counts 1.5 million chips of all
#   vendors at an Ascend 910B's 0.4 PFLOP/s, while ours counts the packaged Huawei and
#   Cambricon output recorded for 2025, with the 910C's higher throughput in the mix.
# - The forecast of what China acquires in 2026 counts B300 equivalents and mostly
#   licensed H200s: against our 2026 arrivals with every approved H200 delivered.
# - A US/China ratio needs the US stock, which this dataset does not hold.
#
# Why they differ, beyond scope: the published figures are one vintage of one analyst,
# where this series keeps each input's stated bound or range; and this series retires
# chips over 5-6 years while Epoch counts no retirement.

# %%
if missing:
    print(f"Release {rel.id} has no published estimates to compare with (no parameters).")
else:
    b300 = analytics.h100e(pl.DataFrame({"chip_id": ["nvidia_b300_hgx"], "units": [1]}),
                           chips).item(0, "h100e_8bit")
    legal = {**tables, "shipments": tables["shipments"].filter(
        pl.col("stock_channel").fill_null("") != "smuggled")}
    pct = {"p5": "low", "p50": "median", "p95": "high"}
    stock_q1 = analytics.compute_stock(legal).filter(
        (pl.col("channel") == "total") & (pl.col("quarter") == "2026Q1"))
    added_2025 = analytics.compute_flows(tables).filter(pl.col("year") == "2025")
    added_2026 = analytics.compute_flows(tables, h200_delivered_share=1.0).filter(
        (pl.col("year") == "2026") & (pl.col("channel") == "total"))
    display(tables["parameters"].filter(pl.col("kind") == "published_estimate").select(
        "parameter_id", "name", "period_end", "value_low", "value", "value_high",
        "value_qualifier", "unit", "scope", "confidence"))
    display(pl.concat([
        stock_q1.select(ours=pl.lit("stock at the end of 2026Q1 without smuggled chips, H100e"),
                        **{n: pl.col(f"h100e_{p}") for p, n in pct.items()}),
        added_2025.select(ours=pl.format("added in 2025, {}, sparse FP16 zettaFLOP/s", "channel"),
                          **{n: pl.col(f"flops_{p}") * 2 / 1e21 for p, n in pct.items()}),
        added_2026.select(ours=pl.lit("added in 2026 with every approved H200, B300 equivalents"),
                          **{n: pl.col(f"h100e_{p}") / b300 for p, n in pct.items()}),
    ]))
