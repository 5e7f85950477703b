"""The local demo behind the README's run command: real servers, simulated providers, every service."""

from regpipe.demo.runner import DemoOptions, demo_state_dir, run_demo

__all__ = ["DemoOptions", "demo_state_dir", "run_demo"]
