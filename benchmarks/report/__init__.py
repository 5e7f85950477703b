"""`python -m benchmarks.report`: docs/benchmarks.md and its latency plot, from the committed results alone."""
