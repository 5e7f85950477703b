"""Simulated providers, a product of their own: the demo, the tests and the benchmarks use them, the product never
does (an import contract says so) and service images need not ship them.

One package per provider (`most`, `coldmail`, `opensrs`, `opusdns`), built from one kit (`kit`: faults on demand,
held acknowledgements, one way to serve, a provider-like webhook sender); `world` runs them all at once for the
demo, and `cli` is the `regpipe-simulators` command.
"""

from regpipe.simulators.world import WorldConfig, WorldEndpoints, run_world

__all__ = ["WorldConfig", "WorldEndpoints", "run_world"]
