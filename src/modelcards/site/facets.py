"""The catalog's facets (status, risk tier, owner, tag, live environment, policy state) and the owners' pages.

Each model's facet values and each value's count are computed here, at build time: the catalog page shows the
counts and every value as text without JavaScript, and the script only hides rows and recounts what is left.
An owner is a person or a team as ``owners[].name`` spells it; two spellings that ``governance.person`` calls the
same name are one owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from ..catalog import Catalog, ModelEntry
from ..cards.schema import RiskTier, Status, Version
from ..governance import VersionStatus, person
from ..policy import ModelPolicy, PolicyReport
from .paths import owner_slugs

NO_RISK_TIER = "none"
NOT_DEPLOYED = "not deployed"
RISK_SEVERITY = (RiskTier.critical.value, RiskTier.high.value, RiskTier.medium.value, RiskTier.low.value,
                 NO_RISK_TIER)  # most severe first
POLICY_STATES = ("passes", "failing", "waived", "no rules")


@dataclass(frozen=True)
class Owner:
    name: str  # as first written in the catalog (cards in name order)
    slug: str  # its page: paths.owner_page(slug)
    models: list[ModelEntry] = field(default_factory=list)
    roles: dict[str, list[str]] = field(default_factory=dict)  # by model: the roles its card gives them


@dataclass(frozen=True)
class CatalogRow:
    """One model as the catalog and the owner pages list it, with its value in every facet."""

    model: ModelEntry
    owners: list[Owner]
    latest: Version | None
    states: dict[str, VersionStatus]
    environments: list[str]  # where a version of it is live now
    policy: ModelPolicy | None

    @property
    def risk(self) -> str:
        return self.model.card.risk_tier.value if self.model.card.risk_tier else NO_RISK_TIER

    @property
    def risk_rank(self) -> int:
        """Sorts by severity: none 0, low 1 ... critical 4."""
        return len(RISK_SEVERITY) - 1 - RISK_SEVERITY.index(self.risk)

    @property
    def policy_state(self) -> str:
        if self.policy is None:
            return "no rules"
        return "failing" if self.policy.failing else "waived" if self.policy.waived else "passes"

    def values(self, facet: str) -> list[str]:
        """The row's values in one facet (its ``Facet.key``); a model has several owners, tags, environments."""
        card = self.model.card
        if facet == "status":
            return [card.status.value]
        if facet == "risk":
            return [self.risk]
        if facet == "owner":
            return [owner.slug for owner in self.owners]
        if facet == "tag":
            return list(card.tags)
        if facet == "env":
            return self.environments or [NOT_DEPLOYED]
        if facet == "policy":
            return [self.policy_state]
        raise KeyError(facet)


@dataclass(frozen=True)
class FacetValue:
    value: str  # in the URL (``?risk=high``) and the rows' data attributes
    label: str  # shown
    count: int  # models with this value, before any selection


@dataclass(frozen=True)
class Facet:
    key: str  # the URL parameter
    title: str
    values: list[FacetValue]

    @cached_property
    def position(self) -> dict[str, int]:
        return {value.value: index for index, value in enumerate(self.values)}


@dataclass(frozen=True)
class CatalogView:
    rows: list[CatalogRow]
    facets: list[Facet]
    owners: list[Owner]  # by name, case-insensitively

    def facet_code(self, row: CatalogRow) -> str:
        """A row's values in every facet, for the page's script: per facet (in order, ``|`` between them) the
        positions of its values in that facet's list, ``,`` between them. ``2|1|0,3|...``: digits only, so
        the attribute needs no escaping, and a tenth of the size of the values themselves at 1,000 rows."""
        return "|".join(",".join(str(facet.position[value]) for value in row.values(facet.key))
                        for facet in self.facets)


def catalog_view(catalog: Catalog, policy: PolicyReport | None, environments: Iterable[str] = ()) -> CatalogView:
    """The catalog's rows, facets and owners. ``environments`` is the deployment order, first to last (the
    ``environments`` setting): the environment facet lists the last (production) first."""
    names: dict[str, str] = {}  # person(name) -> the name as first written
    for model in catalog.models.values():
        for owner in model.card.owners:
            names.setdefault(person(owner.name), owner.name)
    slugs = owner_slugs(names)
    owners = {key: Owner(name, slugs[key]) for key, name in names.items()}

    rows = []
    for model in catalog.models.values():
        model_owners = list({person(o.name): owners[person(o.name)] for o in model.card.owners}.values())
        for owner in model_owners:
            owner.models.append(model)
        for written in model.card.owners:
            if written.role:
                owners[person(written.name)].roles.setdefault(model.name, []).append(written.role)
        states = model.states
        live = sorted({d.environment for status in states.values() for d in status.live_in})
        rows.append(CatalogRow(model, model_owners, model.latest_version, states, live,
                               policy.models.get(model.name) if policy else None))

    by_name = sorted(owners.values(), key=lambda o: (o.name.casefold(), o.name))
    order = list(environments)[::-1]
    facets = [
        _facet(rows, "status", "Status", [s.value for s in Status]),
        _facet(rows, "risk", "Risk tier", RISK_SEVERITY),
        _facet(rows, "owner", "Owner", [o.slug for o in by_name], labels={o.slug: o.name for o in by_name}),
        _facet(rows, "tag", "Tag", sorted(catalog.tags)),
        _facet(rows, "env", "Deployed in", None, first=order, last=[NOT_DEPLOYED]),
    ]
    if policy is not None:
        facets.append(_facet(rows, "policy", "Policy", POLICY_STATES))
    return CatalogView(rows, facets, by_name)


def _facet(rows: list[CatalogRow], key: str, title: str, order: Iterable[str] | None, *,
           labels: dict[str, str] | None = None, first: Iterable[str] = (), last: Iterable[str] = ()) -> Facet:
    """A facet's values that some model has, with their counts; in ``order``, or else ``first``, the rest
    alphabetically, then ``last``."""
    counts: dict[str, int] = {}
    for row in rows:
        for value in row.values(key):
            counts[value] = counts.get(value, 0) + 1
    if order is None:
        first, last = [v for v in first if v in counts], [v for v in last if v in counts]
        order = [*first, *sorted(set(counts) - set(first) - set(last)), *last]
    labels = labels or {}
    return Facet(key, title, [FacetValue(v, labels.get(v, v), counts[v]) for v in order if v in counts])


__all__ = ["CatalogRow", "CatalogView", "Facet", "FacetValue", "Owner", "catalog_view"]
