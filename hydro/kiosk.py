"""Kiosk finances: does the price of a jerrycan pay for running and repairing a scheme.

A community-managed standpipe or kiosk scheme sells water by the 20 l jerrycan (UGX 100 in
Uganda, subsaharan brief 6 [S]). The committee must pay operation and minor maintenance each
year and save for the replacements (pump, inverter, taps) that come at the end of their lives
(WASHCost's capital maintenance). The water sold is what people are expected to use (the
design's litres times the share of the time the scheme works), not the design allowance.

:func:`kiosk_finances` gives the revenue, the yearly costs, the balance and the price per
jerrycan that pays for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hydro.errors import InputError
from hydro.lifecycle import LifeCycle, capital_recovery_factor

#: Litres in a jerrycan.
JERRYCAN_L = 20.0


@dataclass(frozen=True, kw_only=True)
class KioskFinances:
    """A year of a kiosk scheme's accounts [currency a year unless named].

    Attributes
    ----------
    sold_m3_per_year : float
        Water sold: people x expected litres x 365 x the share paid for.
    price_per_jerrycan : float
        Price of 20 l [currency].
    revenue, om, replacement_fund : float
        Sales; operation and minor maintenance; the yearly saving that pays the
        replacements (capital maintenance spread as an annuity over the horizon).
    break_even_price_per_jerrycan : float
        The price that pays for O&M and the replacement fund [currency/20 l].
    """

    sold_m3_per_year: float
    price_per_jerrycan: float
    revenue: float
    om: float
    replacement_fund: float
    break_even_price_per_jerrycan: float

    @property
    def balance(self) -> float:
        """Revenue less O&M and the replacement fund (negative: a deficit)."""
        return self.revenue - self.om - self.replacement_fund

    @property
    def covers_repairs(self) -> bool:
        """True when the price pays for O&M and the replacements."""
        return self.balance >= 0


def replacement_fund_per_year(
    lifecycle: LifeCycle, horizon_years: int, discount_rate: float
) -> float:
    """The yearly saving that pays the replacements: their present value as an annuity.

    Examples
    --------
    >>> from hydro.lifecycle import Asset, Option, life_cycle
    >>> pump = Asset(name="pump", cost=1000.0, life_years=10)
    >>> o = Option(name="x", technology="t", people=100, l_per_person_day=20, assets=(pump,))
    >>> replacement_fund_per_year(life_cycle(o, 20, 0.0), 20, 0.0)  # 1000 / 20 years
    50.0
    """
    present = lifecycle.present_value["capital_maintenance"]
    return float(present * capital_recovery_factor(discount_rate, horizon_years))


def kiosk_finances(
    people: float,
    expected_l_per_person_day: float,
    price_per_jerrycan: float,
    om_per_year: float,
    replacement_per_year: float,
    paying_share: float = 1.0,
) -> KioskFinances:
    """Revenue against O&M and the replacement fund, and the price that pays for both.

    Parameters
    ----------
    people : float
        People who buy water.
    expected_l_per_person_day : float
        What each uses on average [l/person/day] (design x functionality, not the allowance).
    price_per_jerrycan : float
        Price of 20 l [currency].
    om_per_year, replacement_per_year : float
        Operation and minor maintenance, and the replacement saving [currency/year].
    paying_share : float
        Share of the water that is paid for (exemptions, unpaid fetching; 0-1).

    Examples
    --------
    >>> # 1,000 people x 10 l = 10 m3 a day = 500 jerrycans, 182,500 a year
    >>> k = kiosk_finances(1000, 10.0, 100.0, 9_125_000.0, 9_125_000.0)
    >>> k.revenue, k.break_even_price_per_jerrycan, k.covers_repairs
    (18250000.0, 100.0, True)
    """
    values = (people, expected_l_per_person_day, price_per_jerrycan, om_per_year,
              replacement_per_year)  # fmt: skip
    if not all(np.isfinite(v) and v >= 0 for v in values):
        raise InputError(f"kiosk finances: every figure a finite number >= 0, got {values}")
    if not 0 < paying_share <= 1:
        raise InputError(f"kiosk finances: paying share {paying_share!r}; between 0 and 1")
    sold_m3 = people * expected_l_per_person_day * 365.0 / 1000.0 * paying_share
    jerrycans = sold_m3 * 1000.0 / JERRYCAN_L
    cost = om_per_year + replacement_per_year
    return KioskFinances(
        sold_m3_per_year=sold_m3,
        price_per_jerrycan=price_per_jerrycan,
        revenue=jerrycans * price_per_jerrycan,
        om=om_per_year,
        replacement_fund=replacement_per_year,
        break_even_price_per_jerrycan=cost / jerrycans if jerrycans > 0 else float("inf"),
    )
