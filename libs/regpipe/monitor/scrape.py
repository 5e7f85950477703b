"""Parsing the Prometheus text exposition of one service into flat samples."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Sample", "parse_metrics"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample: the sample's own name (e.g. `regpipe_x_total`), its labels and value."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, key: str) -> str | None:
        """The value of one label, or None."""
        for name, value in self.labels:
            if name == key:
                return value
        return None


def parse_metrics(text: str) -> list[Sample]:
    """Every sample of `text`; an unparsable exposition raises `ValueError`."""
    return [
        Sample(sample.name, tuple(sorted(sample.labels.items())), float(sample.value))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]
