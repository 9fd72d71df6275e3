"""Handsup's benchmark harness: a load generator, a bare-transport baseline, and the runner (`python -m bench.run`)."""
