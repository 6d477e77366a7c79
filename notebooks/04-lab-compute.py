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
# # Lab compute
#
# How much compute do the labs hold and train with, in FLOP/s and H100 equivalents with
# their uncertainty, counting no chip twice; what would the approved H200s add, and how
# long would a DeepSeek-V3-scale and a V4-scale run take on the chips actually delivered;
# and how do NVIDIA and Huawei Ascend compare?

# %% tags=["parameters"]
release = "latest"

# %%
import polars as pl
from IPython.display import display

import analytics
from analytics import charts
from analytics.reconciliation import reconcile

analytics.notebook_setup()
H200 = "nvidia_h200_sxm_141gb"
chips = analytics.load("chips", release=release)
lab = analytics.load("lab_compute", release=release)
approvals = analytics.load("approvals", release=release)
shipments = analytics.load("shipments", release=release)
entities = analytics.load("entities", release=release)
fleet = analytics.fleet_compute(lab, chips)

# %% [markdown]
# ## Holdings, clusters and training runs in H100 equivalents
#
# Each line is one estimate (lab, what it counts, date): the dot is the central figure,
# the bar the interval from the 5th to the 95th percentile where the sources give a range.
# H100 equivalents here compare dense BF16 throughput with the H100's; records whose chip
# is not known cannot be converted and are listed in the table only.

# %%
charts.fleet_compute(fleet, measure="h100e_bf16", title="Lab compute in H100 equivalents (BF16)")

# %%
charts.fleet_compute(fleet, measure="flops_bf16", title="Lab compute in dense BF16 FLOP/s")

# %%
fleet.select(
    "record_id", "lab_id", "subject", "name", "as_of_date", "chip_id", "chip_reported",
    "chip_count_low", "chip_count", "chip_count_high", "flops_bf16_low", "flops_bf16",
    "flops_bf16_high", "h100e_bf16_low", "h100e_bf16", "h100e_bf16_high", "h100e_8bit",
    "confidence", "source_ids",
).sort("lab_id", "as_of_date", "record_id")

# %% [markdown]
# ## Each lab's chips, counting no chip twice
#
# Several estimates of one lab's chips may count the same chips (DeepSeek's 10,000 A100,
# 50,000 Hopper and 50,000 H100 are not 110,000 chips). Per lab, on the last day any of
# its estimates covers, the best estimate keeps the non-overlapping ones (a later estimate
# replaces the one it supersedes, a cluster is part of the lab's chips, of overlapping
# estimates the largest is kept), adds them by sampling ("at least" stays a bound), and
# says why. H100 equivalents here are on the 8-bit basis; estimates that name no chip type
# (the "Hopper incl. H20" purchases) have none.

# %%
labs = (lab.filter(pl.col("subject").is_in(["holdings", "purchase", "cluster"]))
        .group_by("lab_id").agg(pl.col("as_of_date").max()).sort("lab_id"))
pl.concat([analytics.best_estimate(lab, lab_id, on, chips=chips)
           for lab_id, on in labs.iter_rows()])

# %% [markdown]
# ## Training runs
#
# Reported training compute (FLOP, 5th / central / 95th percentile) and accelerator-hours.

# %%
lab.filter(pl.col("subject") == "training_run").select(
    "record_id", "lab_id", "name", "as_of_date", "chip_id", "chip_count", "gpu_hours",
    "training_flop_low", "training_flop", "training_flop_high", "method", "confidence",
    "source_ids",
).sort("training_flop", "record_id", descending=[True, False], nulls_last=True)

# %% [markdown]
# ## What the approved H200s would add
#
# The Chinese import approvals of H200s that carry a quantity, in H100 equivalents on
# both bases. Each is a conditional approval shared by a group of buyers and stated as a
# bound ("at least"): the H100 equivalents are a floor for the whole group, not one
# buyer's cluster, and they count chips approved, not delivered (`confirmed_delivered`).
# China's compute with and without their delivery is in the notebook "China's compute".

# %%
approved = (
    reconcile(approvals, shipments, chips=chips, entities=entities)
    .filter(
        (pl.col("gate") == "cn_import_approval")
        & pl.col("chip_ids").list.contains(H200)
        & pl.col("approved_quantity").is_not_null()
    )
    .select("event_id", "date", "status_as_reported", "buyer_group", "chip_ids",
            "approved_qualifier", "approved_scope", "confirmed_delivered",
            units="approved_quantity")
)
approved = analytics.h100e(analytics.h100e(approved, chips, basis="8bit"), chips, basis="bf16")
approved

# %% [markdown]
# ### Days to train a DeepSeek-V3-scale and a V4-scale run on delivered chips
#
# The training compute comes from the DeepSeek-V3 and V4 rows of `lab_compute`. The model
# FLOP utilisation (MFU) is the one DeepSeek-V3 achieved, implied by its training compute
# and its H800-hours in the same table. The hardware is what was reported, never the
# approval: the cluster DeepSeek reports for V3, and each H200 delivery recorded for one
# buyer. A delivery's chips are assumed to form one cluster (the most favourable reading;
# they may be split across sites, and partly kept in Hong Kong). A group approval is not
# a cluster: it is conditional, shared by several companies, stated as "at least", and
# largely undelivered, so no training time is computed for it.

# %%
deepseek = lab.filter(pl.col("lab_id") == "deepseek")
v3 = analytics.run_mfu(lab, chips, lab_id="deepseek", name=r"^DeepSeek-V3( |$)")
runs = deepseek.filter(
    pl.col("name").str.contains(r"^DeepSeek-V(3( |$)|4)") & pl.col("training_flop").is_not_null()
).sort("training_flop", "record_id")
clusters = deepseek.filter((pl.col("subject") == "cluster")
                           & pl.col("name").str.starts_with("DeepSeek-V3")
                           & pl.col("chip_count").is_not_null())
delivered = shipments.filter(
    (pl.col("record_type") == "delivery") & (pl.col("chip_ids").list.len() == 1)
    & pl.col("chip_ids").list.contains(H200) & (pl.col("buyer_ids").list.len() == 1)
    & (pl.col("units") > 0)
)
hardware = pl.concat([
    clusters.select(hardware=pl.format("{} ({})", "name", "record_id"), chip_id="chip_id",
                    chips=pl.col("chip_count").cast(pl.Int64)),
    delivered.select(hardware=pl.format("H200s delivered to {} ({}, {} {})",
                                        pl.col("buyer_ids").list.first(), "record_id",
                                        "units_qualifier", "units"),
                     chip_id=pl.lit(H200), chips=pl.col("units").cast(pl.Int64)),
])
if v3.is_empty():
    print("This release does not hold both the training compute and the accelerator-hours "
          "of DeepSeek-V3, so no MFU and no training time can be derived from it.")
else:
    mfu = v3.item(0, "mfu")
    print(f"MFU implied by {v3.item(0, 'name')} ({v3.item(0, 'flop_record_id')}, "
          f"{v3.item(0, 'hours_record_id')}): {mfu:.3f}")
    display(analytics.training_days_grid(runs, hardware, chips, mfu=mfu))

# %% [markdown]
# ## NVIDIA against Huawei Ascend
#
# Per chip: dense throughput, memory bandwidth and power, and what one chip is worth in
# H100 equivalents on each basis (8-bit: the larger of dense FP8 and INT8, so a Blackwell
# Ultra with cut INT8 counts by its FP8; each divided by the H100 row's own figure).

# %%
per_chip = chips.filter(pl.col("vendor_id").is_in(["nvidia", "huawei"])).with_columns(units=1)
per_chip = analytics.h100e(analytics.h100e(per_chip, chips, basis="8bit"), chips, basis="bf16")
per_chip.select(
    "vendor_id", "chip_id", "model", "release_date", "bf16_dense_tflops", "fp8_dense_tflops",
    "int8_dense_tops", "memory_bw_gbps", "tdp_w", "h100e_bf16", "h100e_8bit",
).sort("vendor_id", "bf16_dense_tflops", "chip_id", nulls_last=True)

# %% [markdown]
# Volumes: production of Ascend chips against NVIDIA orders, deliveries and sales estimates
# for China, in units and in H100 equivalents (BF16 basis) where the record names one chip.

# %%
volumes = shipments.filter(
    pl.col("vendor_id").is_in(["nvidia", "huawei"])
    & pl.col("record_type").is_in(["production", "order", "delivery", "sales_estimate"])
)
analytics.h100e(volumes, chips, basis="bf16").select(
    "vendor_id", "record_type", "record_id", "period_start", "period_end", "product_scope",
    "units_low", "units", "units_high", "h100e_bf16_low", "h100e_bf16", "h100e_bf16_high",
    "method", "confidence", "source_ids",
).sort("vendor_id", "period_start", "record_id")
