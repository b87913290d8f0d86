"""Design defaults that several parts of hydro share, each with its source.

The sources are listed in ``docs/sources.md`` of the repository: ``[D]`` marks a documented
figure, ``[E]`` an engineering estimate.
"""

#: Hours a day a pump runs at its duty flow [h]: estimate [E] (20 h leaves 4 h for faults,
#: maintenance and off-peak tariffs).
PUMPING_HOURS = 20.0
#: Emergency storage in hours of average demand [h]: estimate [E].
RESERVE_HOURS = 12.0
#: Peak day over average day [-]: docs/sources.md, 5.1 (DCOM 1.1-1.3 [S]; 1.3 [E]).
PEAK_DAY_FACTOR = 1.3
#: Energy price [EUR/kWh], where the caller gives none (a study gives its own, in its
#: currency): 1.0 MAD/kWh [E] (docs/sources.md, 5.4) at 11.1 MAD/EUR (1.3), 0.090 [D].
#: The library is currency-neutral: a price in another currency gives costs in that one.
ENERGY_PRICE_EUR_PER_KWH = 0.09
#: Share of each tank's usable volume always kept [-]: estimate [E].
TANK_RESERVE_SHARE = 0.2
#: Simulated duration of a compliance check [h]: three peak days.
CHECK_DURATION_H = 72.0
#: Persons per household [E]: docs/sources.md, 5.1 (no official figure found: 6).
PERSONS_PER_HOUSEHOLD = 5.5
#: Design horizon when the data year is before it: docs/sources.md, 5.1 (Tuscany-Angad [S]).
DESIGN_YEAR = 2030
#: Years from the data year to the design year when the data are later: docs/sources.md, 5.1.
DESIGN_PERIOD_YEARS = 20
#: Looped optimiser: time limit per sizing run in a study [s] and seed.
LOOPED_TIME_LIMIT_S = 20.0
#: Longest simulated duration hydro accepts [h]: one year of operation, longer than any
#: design check needs; EPANET's scratch and report files grow with the duration (a run of
#: 1e9 h fills the disk before it ends).
MAX_SIMULATION_HOURS = 8760.0
#: Lowest pressure at a tap while its taps draw their flow [m]: docs/sources.md, 5.1 [E].
TAP_MIN_PRESSURE_M = 5.0
#: Local loss of a standpipe between its junction and its taps (riser, valve and meter) [m]
#: at :data:`STANDPIPE_LOSS_FLOW_L_PER_S`, rising with the square of the flow: estimate [E]
#: (docs/sources.md 7: 3-4 m at 0.5 l/s).
STANDPIPE_LOCAL_LOSS_M = 3.5
STANDPIPE_LOSS_FLOW_L_PER_S = 0.5
#: Taps on one standpipe where the tap table does not say (docs/sources.md, 5.1: 2 taps
#: [E]); a node's taps beyond it are more standpipes, each with its own riser, valve and meter.
TAPS_PER_STANDPIPE = 2
#: Highest static pressure in the distribution (PN10 network) [m]: docs/sources.md, 5.1 [E].
MAX_PRESSURE_M = 60.0
#: Life over which a booster's energy is discounted in the tree program [years] and the
#: discount rate [1/year]: docs/sources.md 4.3 [D] (25 years at 6%, CRF 0.0782).
DESIGN_LIFE_YEARS = 25.0
DISCOUNT_RATE = 0.06
