"""Altair charts of the datasets and derived tables, in one project theme (``chip_supply``).

Each function takes a (Lazy)Frame, sorts it, and returns an altair chart with a title,
axis titles with units, explicit encoding types, a tooltip that carries the source ids,
colours from :mod:`analytics.palette` and direct labels that touch no other text.
altair is imported when a chart is first made. Render charts to SVG or PNG
(``vl_convert``) for pages: the SVG output escapes chart text, while altair's HTML
output does not.

The charts live by subject: :mod:`analytics.charts_events` (policy timeline, approvals
against deliveries), :mod:`analytics.charts_controls` (export controls),
:mod:`analytics.charts_compute` (lab compute, release changes); what they share is in
:mod:`analytics.charts_base`.
"""

from __future__ import annotations

from analytics.charts_base import THEME
from analytics.charts_compute import fleet_compute, fleet_compute_chart, release_diff
from analytics.charts_controls import tpp_density_scatter
from analytics.charts_events import approvals_vs_deliveries, policy_timeline

__all__ = [
    "THEME",
    "approvals_vs_deliveries",
    "fleet_compute",
    "fleet_compute_chart",
    "policy_timeline",
    "release_diff",
    "tpp_density_scatter",
]
