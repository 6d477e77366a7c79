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
# # Approvals against shipments
#
# What did each government approve, what did buyers order, and what was delivered, buyer
# by buyer? How does the group approval of H200s for ByteDance, Alibaba and Tencent
# compare with deliveries, and what do the smuggling cases add beside it?

# %% tags=["parameters"]
release = "latest"

# %%
import polars as pl

import analytics
from analytics import charts
from analytics.reconciliation import reconcile

analytics.notebook_setup()
H200 = "nvidia_h200_sxm_141gb"
approvals = analytics.load("approvals", release=release)
shipments = analytics.load("shipments", release=release)
chips = analytics.load("chips", release=release)
entities = analytics.load("entities", release=release)
reconciled = reconcile(approvals, shipments, chips=chips, entities=entities)

# %% [markdown]
# ## Approved, ordered and delivered, by buyer group
#
# One line per granting decision (an approval, conditional approval or permit) with the
# orders, purchase intentions and confirmed deliveries of the same buyers and chips. A
# group approval stays one group: its quantity is never split across buyers.

# %%
charts.approvals_vs_deliveries(reconciled)

# %%
reconciled.select(
    "event_id", "date", "gate", "buyer_group", "chip_group", "approved_quantity",
    "approved_qualifier", "approved_scope", "ordered_units", "ordered_units_qualifier",
    "intent_units", "intent_units_qualifier", "confirmed_delivered",
    "confirmed_delivered_qualifier", "delivered_through", "headroom", "headroom_qualifier",
    "approval_source_ids", "delivery_source_ids",
)

# %% [markdown]
# ## The H200 group approval against deliveries
#
# The H200 approvals that carry a quantity, at either gate, next to the confirmed
# deliveries to the same buyers; `headroom` is what is approved and not yet delivered,
# given only where the deliveries are known exactly (a delivery of "about 20,000" or
# "at least 20,000" leaves it empty rather than turn a rough figure into a certain one).

# %%
h200 = reconciled.filter(
    pl.col("chip_ids").list.contains(H200) & pl.col("approved_quantity").is_not_null()
)
h200.select(
    "event_id", "date", "gate", "buyer_group", "approved_quantity", "approved_qualifier",
    "approved_scope", "confirmed_delivered", "confirmed_delivered_qualifier",
    "delivered_through", "headroom", "headroom_qualifier", "approval_source_ids",
    "delivery_source_ids",
)

# %% [markdown]
# The buyers named in those approvals:

# %%
entities.filter(
    pl.col("entity_id").is_in(h200.get_column("buyer_ids").explode().drop_nulls().implode())
).select("entity_id", "name", "native_name", "kind", "country")

# %% [markdown]
# ## H200 shipment records
#
# Every order, intention, delivery, revenue and charge record naming the H200.

# %%
shipments.filter(pl.col("chip_ids").list.contains(H200)).select(
    "record_id", "record_type", "period_start", "period_end", "buyer_ids", "buyer_scope",
    "destination", "units_low", "units", "units_high", "units_qualifier", "value_usd",
    "method", "confidence", "source_ids",
)

# %% [markdown]
# ## Smuggling and seizures beside it
#
# Cases of chips that reached, or were meant to reach, China outside the licensed
# channel, as charged in court or reported.

# %%
shipments.filter(pl.col("record_type").is_in(["smuggling", "seizure"])).select(
    "record_id", "record_type", "period_start", "period_end", "product_scope", "buyer_scope",
    "destination", "units_low", "units", "units_high", "value_usd", "method", "confidence",
    "notes", "source_ids",
).sort("period_start", "record_id")
