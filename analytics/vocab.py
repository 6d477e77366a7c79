"""Vocabularies and table metadata: the words the datasets may use, and how tables join.

Plain Python constants, importable without pandera or polars: the contracts in
:mod:`analytics.schemas` check them, the rules in :mod:`analytics.rules` name them.

>>> "CN" in BUYER_COUNTRIES and "non_CN" in DESTINATION_WORDS
True
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- vocabularies
CONFIDENCE = ("high", "medium", "low")
DATE_PRECISION = ("day", "month", "quarter", "year")
SOURCE_DATE_PRECISION = ("day", "month", "year", "undated")
RELEASE_PRECISION = ("day", "month", "quarter", "year", "unknown")
SOURCE_TYPES = (
    "official",
    "company_filing",
    "court_record",
    "news_report",
    "analyst_estimate",
    "secondary",
)
ENTITY_KINDS = ("company", "lab", "regulator", "government", "industry_body", "research_institute")
VALUE_BASIS = ("vendor_spec", "third_party", "derived")
#: How exact a figure is; ``approx`` is the older spelling of ``about``, still valid in
#: releases cut before ``about`` existed.
QUANTITY_QUALIFIERS = ("exact", "about", "at_least", "at_most", "range", "approx")
#: Older qualifier spellings -> the current word.
QUALIFIER_SPELLINGS = {"approx": "about"}
QUANTITY_SCOPES = ("per_entity", "combined")
APPROVAL_ACTIONS = (
    "approve",
    "conditional_approval",
    "permit",
    "license_required",
    "restrict",
    "deny",
    "revoke",
    "guidance",
    "discourage",
    "investigate",
    "revenue_share",
    "proposed",
)
#: ``proposed`` is a measure under consideration (a cap, a rule): on record, not in force.
#: The approval actions that let chips through a gate.
GRANTING_ACTIONS = ("approve", "conditional_approval", "permit")
STATUS_AS_REPORTED = ("official", "confirmed", "reported")
CLAUSE_KINDS = ("classification", "licence_policy")
LICENCE_POLICIES = (
    "licence_required",
    "presumption_of_denial",
    "case_by_case",
    "presumption_of_approval",
)
#: Licence policies from most to least restrictive; the most restrictive that holds wins.
POLICY_ORDER = (
    "presumption_of_denial",
    "licence_required",
    "case_by_case",
    "presumption_of_approval",
)
SHIPMENT_RECORD_TYPES = (
    "order",
    "purchase_intent",
    "delivery",
    "sales_estimate",
    "production",
    "production_halt",
    "inventory",
    "revenue",
    "charge",
    "forgone_revenue",
    "seizure",
    "smuggling",
)
#: Record types that bring chips to a buyer.
SUPPLY_RECORD_TYPES = ("delivery", "sales_estimate")
#: Record types that state demand ahead of a delivery (and may precede a launch).
FORWARD_RECORD_TYPES = ("order", "purchase_intent")
METHODS = ("disclosed", "reported", "estimated", "alleged", "derived")
#: Delivery methods that count as confirmed.
CONFIRMED_METHODS = ("disclosed", "reported")
#: The chip specifications that carry a ``<spec>_basis`` column.
CHIP_SPECS = (
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "int8_dense_tops",
    "fp4_dense_tflops",
    "memory_gb",
    "memory_bw_gbps",
    "interconnect_gbps",
    "tdp_w",
    "die_area_mm2",
)
#: What a lab_compute row counts: a stock, one cluster, one run, a purchase (a flow of
#: chips bought) or a budget (money set aside for compute).
LAB_SUBJECTS = ("holdings", "cluster", "training_run", "purchase", "budget")
#: How an evidence row supports its figure: stated by the quote, derived from other
#: figures, or assumed.
EVIDENCE_BASIS = ("stated", "derived", "assumed")
EVIDENCE_ID = r"^EV-[A-Z0-9]+-\d{4}$"
LAB_COMPUTE_ID = r"^LC-\d{3,}$"
#: How chips in a shipment record reached (or would reach) China's stock.
STOCK_CHANNELS = (
    "exported_pre_control",
    "china_specific",
    "under_licence",
    "smuggled",
    "domestic",
)
#: What a ``parameters`` row is, and the id prefix of each kind.
PARAMETER_KINDS = ("price", "assumption", "published_estimate")
PARAMETER_PREFIXES = {"price": "PRC", "assumption": "ASM", "published_estimate": "EST"}
PARAMETER_ID = r"^(PRC|ASM|EST)-\d{3,}$"
#: Precision of an Entity List addition date.
ENTITY_LIST_PRECISION = ("day", "month")
#: Destination words besides ISO codes joined by ``+`` (``CN``, ``CN+HK``).
DESTINATION_WORDS = ("non_CN", "unknown")
#: Seats of a Chinese buyer: mainland China, Hong Kong and Macau.
BUYER_COUNTRIES = ("CN", "HK", "MO")

SLUG = r"^[a-z0-9]+(?:_[a-z0-9]+)*$"
SOURCE_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
COUNTRY = r"^[A-Z]{2}$"
DESTINATION = r"^([A-Z]{2}(\+[A-Z]{2})*|non_CN|unknown)$"
URL = r"^https?://\S+$"

# --------------------------------------------------------------------------- table metadata
FACT_TABLES = ("chips", "control_rules", "approvals", "shipments", "lab_compute")
DATASETS = ("sources", "entities", *FACT_TABLES, "parameters", "evidence")

#: Datasets added after the first releases: a release cut before one was added does not
#: ship it (its readers say so; its validation omits it).
OPTIONAL_DATASETS = ("parameters", "evidence")
#: Datasets whose rows an ``evidence`` row may support.
EVIDENCE_DATASETS = tuple(n for n in DATASETS if n != "evidence")

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "sources": ("source_id",),
    "entities": ("entity_id",),
    "chips": ("chip_id",),
    "control_rules": ("rule_id", "clause"),
    "approvals": ("event_id",),
    "shipments": ("record_id",),
    "lab_compute": ("record_id",),
    "parameters": ("parameter_id",),
    "evidence": ("evidence_id",),
}


#: The date each dated record refers to (its event), by dataset: nothing in a release may
#: be dated after the release, and the latest of them is the release's data cutoff.
EVENT_DATES = {
    "approvals": "date",
    "shipments": "period_start",
    "lab_compute": "as_of_date",
    "control_rules": "published_date",
    "chips": "release_date",
}


@dataclass(frozen=True)
class ForeignKey:
    """``dataset.column`` (a list column when ``many``) refers to ``ref.ref_column``."""

    dataset: str
    column: str
    ref: str
    ref_column: str
    many: bool = False


FOREIGN_KEYS: tuple[ForeignKey, ...] = (
    ForeignKey("entities", "parent_id", "entities", "entity_id"),
    ForeignKey("entities", "entity_list_source_ids", "sources", "source_id", many=True),
    ForeignKey("chips", "vendor_id", "entities", "entity_id"),
    ForeignKey("chips", "source_ids", "sources", "source_id", many=True),
    ForeignKey("control_rules", "authority_id", "entities", "entity_id"),
    ForeignKey("control_rules", "source_ids", "sources", "source_id", many=True),
    ForeignKey("approvals", "authority_ids", "entities", "entity_id", many=True),
    ForeignKey("approvals", "chip_ids", "chips", "chip_id", many=True),
    ForeignKey("approvals", "entity_ids", "entities", "entity_id", many=True),
    ForeignKey("approvals", "source_ids", "sources", "source_id", many=True),
    ForeignKey("shipments", "chip_ids", "chips", "chip_id", many=True),
    ForeignKey("shipments", "vendor_id", "entities", "entity_id"),
    ForeignKey("shipments", "buyer_ids", "entities", "entity_id", many=True),
    ForeignKey("shipments", "source_ids", "sources", "source_id", many=True),
    ForeignKey("lab_compute", "lab_id", "entities", "entity_id"),
    ForeignKey("lab_compute", "chip_id", "chips", "chip_id"),
    ForeignKey("lab_compute", "source_ids", "sources", "source_id", many=True),
    ForeignKey("parameters", "chip_id", "chips", "chip_id"),
    ForeignKey("parameters", "source_ids", "sources", "source_id", many=True),
    ForeignKey("evidence", "source_id", "sources", "source_id"),
)

