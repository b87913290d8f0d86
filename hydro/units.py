"""Units and physical constants, in one place.

Everything inside hydro is SI, as in WNTR (m, s, m3/s, m of head). Any other unit is in the
name (``diameter_mm``, ``demand_l_per_s``); these constants convert at input and output.

>>> 0.5 / LITRES_PER_M3  # 0.5 l/s in m3/s
0.0005
>>> round(10 * M_PER_BAR, 2)  # PN10 in metres of water
101.97
"""

#: Seconds in an hour [s/h].
SECONDS_PER_HOUR = 3600.0
#: Hours in a day [h/d].
HOURS_PER_DAY = 24
#: Seconds in a day [s/d].
SECONDS_PER_DAY = HOURS_PER_DAY * SECONDS_PER_HOUR
#: Days in a year [d/yr].
DAYS_PER_YEAR = 365.0
#: Litres in a cubic metre [l/m3].
LITRES_PER_M3 = 1000.0
#: Millimetres in a metre [mm/m].
MM_PER_M = 1000.0
#: Acceleration of gravity used for heads and power [m/s2].
GRAVITY_M_PER_S2 = 9.81
#: Density of water [kg/m3].
WATER_DENSITY_KG_PER_M3 = 1000.0
#: Specific weight of water, rho g [N/m3].
RHO_G = WATER_DENSITY_KG_PER_M3 * GRAVITY_M_PER_S2
#: Metres of water per bar (at 4 degC, g = 9.80665 m/s2): 1e5 Pa / (1000 kg/m3 x 9.80665).
M_PER_BAR = 10.197
#: Joules in a kilowatt-hour [J/kWh].
J_PER_KWH = 3.6e6
