"""The colours results are drawn in, one palette for every kind and the archives' charts.

Okabe and Ito's palette ("Color Universal Design", 2008): its hues stay apart for people with protanopia,
deuteranopia and tritanopia (tests/activities/test_palette.py simulates each and checks every pair).
"""

from __future__ import annotations

# In this order: card-sort bins take the first ones, so an archived sort has its projector's colours.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# For words drawn on white (the word cloud): hues of the same palette darkened until each reads as text (4.5:1),
# and five of them only: a sixth (a dark orange) looked like the vermilion to protanopes.
ON_WHITE = ("#0072B2", "#C05200", "#005C44", "#B8468A", "#1A1A1A")
