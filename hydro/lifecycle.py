"""Life-cycle cost per person per year, the WASHCost way, and the water actually delivered.

WASHCost (IRC, 2011) counts what a service costs over its life, not only what it costs to
build: capital expenditure (hardware and software), capital maintenance (replacing pumps,
inverters and other parts at the end of their lives), operation and minor maintenance, and
direct support (the district or umbrella body that backs the community). Summed and
discounted over the horizon, and spread over the people served and the years, they give the
cost per person per year that compares a solar-pumped scheme with handpumps
(subsaharan brief 4.1: capex 20-61 US$/person for handpumps, 30-131 for small piped schemes;
recurrent 3-6 and 3-15 US$/person/year).

A service that is down delivers nothing: functionality (the share of the time it works:
about 0.75 for handpumps, a quarter being broken at any time, Foster et al. 2019; piped
schemes about 10 days a year down, WASHCost) turns the design's litres into the water
expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hydro.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Asset:
    """A part of a scheme with a life: built at year 0, replaced at the end of each life.

    Attributes
    ----------
    name : str
        What it is (``"PV array"``, ``"pump"``, ``"handpump"``).
    cost : float
        Capital cost [currency].
    life_years : float
        Years before it is replaced (a life longer than the horizon: never replaced).
    """

    name: str
    cost: float
    life_years: float

    def __post_init__(self):
        if not (np.isfinite(self.cost) and self.cost >= 0):
            raise InputError(f"asset {self.name}: cost {self.cost!r}; a number >= 0")
        if not (np.isfinite(self.life_years) and self.life_years > 0):
            raise InputError(f"asset {self.name}: life {self.life_years!r} years; > 0")


@dataclass(frozen=True, kw_only=True)
class Option:
    """A way to serve the people: its assets and yearly costs.

    Attributes
    ----------
    name, technology : str
        The option (``"solar 20 l"``) and its kind (``"solar piped"``, ``"handpumps"``).
    people : float
        People served.
    l_per_person_day : float
        Water each person gets when the service works (the design).
    assets : tuple of Asset
        Capital, replaced at their lives (capital maintenance).
    software : float
        Capital software (community mobilisation, training) at year 0 [currency].
    om_per_year : float
        Operation and minor maintenance a year (energy, keepers, small repairs).
    support_per_person_year : float
        Direct support a year per person (WASHCost's ExpDS).
    functionality : float
        Share of the time the service works (0-1).
    """

    name: str
    technology: str
    people: float
    l_per_person_day: float
    assets: tuple[Asset, ...]
    software: float = 0.0
    om_per_year: float = 0.0
    support_per_person_year: float = 0.0
    functionality: float = 1.0

    @property
    def capital(self) -> float:
        """Capital at year 0: the assets and the software [currency]."""
        return float(sum(a.cost for a in self.assets) + self.software)


@dataclass(kw_only=True)
class LifeCycle:
    """What an option costs over the horizon and what it delivers.

    Attributes
    ----------
    option : Option
        The option.
    present_value : dict
        Discounted sums [currency]: capex, capital_maintenance, om, support, total.
    per_person_year : float
        Equivalent annual cost per person [currency/person/year]: the total present value
        spread over the horizon at the discount rate (capital recovery factor) and the people.
    expected_l_per_person_day : float
        The design's litres times functionality.
    cash : DataFrame
        Year by year: year, capex, capital_maintenance, om, support (undiscounted).
    """

    option: Option
    present_value: dict
    per_person_year: float
    expected_l_per_person_day: float
    cash: pd.DataFrame = field(default_factory=pd.DataFrame)


def capital_recovery_factor(rate: float, years: int) -> float:
    """The annuity that repays 1 over ``years`` at ``rate``: r / (1 - (1 + r)^-n).

    Examples
    --------
    >>> round(capital_recovery_factor(0.0, 20), 4)
    0.05
    >>> round(capital_recovery_factor(0.05, 20), 4)
    0.0802
    """
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def life_cycle(option: Option, horizon_years: int = 20, discount_rate: float = 0.05) -> LifeCycle:
    """Discounted life-cycle cost of ``option`` over ``horizon_years`` (WASHCost's categories).

    Each asset is bought at year 0 and again every ``life_years`` within the horizon
    (capital maintenance); its value left at the horizon is not credited (conservative).
    Operation, minor maintenance and support are paid at the end of each year 1..n.

    Examples
    --------
    >>> pump = Asset(name="pump", cost=1000.0, life_years=10)
    >>> o = Option(name="x", technology="t", people=100, l_per_person_day=20, assets=(pump,))
    >>> lc = life_cycle(o, horizon_years=20, discount_rate=0.0)
    >>> lc.present_value["capital_maintenance"], round(lc.per_person_year, 2)
    (1000.0, 1.0)
    """
    if not (1 <= horizon_years <= 100):
        raise InputError(f"horizon {horizon_years!r} years: between 1 and 100")
    if not (0 <= discount_rate < 1):
        raise InputError(f"discount rate {discount_rate!r}: between 0 and 1")
    if not (option.people > 0):
        raise InputError(f"option {option.name}: people must be > 0")
    years = np.arange(horizon_years + 1)
    capex = np.zeros(horizon_years + 1)
    renew = np.zeros(horizon_years + 1)
    capex[0] = option.capital
    for asset in option.assets:
        t = asset.life_years
        while t < horizon_years - 1e-9:
            renew[int(round(t))] += asset.cost
            t += asset.life_years
    om = np.where(years > 0, option.om_per_year, 0.0)
    support = np.where(years > 0, option.support_per_person_year * option.people, 0.0)
    factor = (1.0 + discount_rate) ** -years
    pv = {
        "capex": float((capex * factor).sum()),
        "capital_maintenance": float((renew * factor).sum()),
        "om": float((om * factor).sum()),
        "support": float((support * factor).sum()),
    }
    pv["total"] = sum(pv.values())
    annual = pv["total"] * capital_recovery_factor(discount_rate, horizon_years)
    cash = pd.DataFrame({"year": years, "capex": capex, "capital_maintenance": renew, "om": om,
                         "support": support})  # fmt: skip
    return LifeCycle(
        option=option,
        present_value=pv,
        per_person_year=annual / option.people,
        expected_l_per_person_day=option.l_per_person_day * option.functionality,
        cash=cash,
    )


def handpump_option(
    people: float,
    borehole_cost: float,
    handpump_cost: float,
    people_per_handpump: float = 500.0,
    handpump_life_years: float = 10.0,
    repairs_per_pump_year: float = 0.0,
    software: float = 0.0,
    support_per_person_year: float = 0.0,
    functionality: float = 0.75,
    l_per_person_day: float = 15.0,
) -> Option:
    """Boreholes with handpumps, one per ``people_per_handpump`` (Sphere: 500 [S]).

    ``functionality`` 0.75: about a quarter of handpumps in Sub-Saharan Africa are broken at
    any time (Foster et al. 2019 [S]; RWSN 36%).
    """
    n = int(np.ceil(people / people_per_handpump))
    assets = (
        Asset(name=f"{n} boreholes", cost=n * borehole_cost, life_years=50.0),
        Asset(name=f"{n} handpumps", cost=n * handpump_cost, life_years=handpump_life_years),
    )
    return Option(
        name=f"handpumps ({n})", technology="handpumps", people=people,
        l_per_person_day=l_per_person_day, assets=assets, software=software,
        om_per_year=n * repairs_per_pump_year, support_per_person_year=support_per_person_year,
        functionality=functionality,
    )  # fmt: skip


def lifecycle_table(results: Sequence[LifeCycle], currency: str = "usd") -> pd.DataFrame:
    """One row per option: option, technology, people, capital, life-cycle cost per person
    per year, litres per person per day expected.
    """
    return pd.DataFrame(
        [
            {
                "option": r.option.name,
                "technology": r.option.technology,
                "people": r.option.people,
                f"capital_{currency}": r.option.capital,
                f"lcc_{currency}_per_person_year": r.per_person_year,
                "l_per_person_day": r.expected_l_per_person_day,
            }
            for r in results
        ]
    )
