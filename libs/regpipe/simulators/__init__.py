"""All provider simulators together (the demo's provider world), and the `regpipe-simulators` command."""

from regpipe.simulators.world import WorldConfig, WorldEndpoints, run_world

__all__ = ["WorldConfig", "WorldEndpoints", "run_world"]
