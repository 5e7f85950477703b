"""CPU cost of the normalizer's per-record work, in process, without Kafka:
`python -m benchmarks.normalizer.profile [--records 4000] [--rounds 5] [--cprofile 30]`.

Maps the benchmark's simulated raw records (the same generator as the Kafka benchmark: Most and Cold Mail webhooks,
about 2% broken) and reports microseconds of CPU (`time.process_time`, so a busy machine slows the figures less
than wall time would) per raw record for three steps measured apart:

- `map`: the provider mappers (`Mapper.map_record` on the unsealed body, headers already parsed);
- `encode`: `normalized_record` of each event the mapping produced (headers, data JSON, key);
- `process`: `Processor.process` as the stage calls it (headers, unsealing, mapping, encoding, the size check,
  quarantine records for the broken ones).

Each is run `--rounds` times over the same records; the minimum and the median per round are printed (the minimum
is the least disturbed by other work on the machine). `--cprofile N` also profiles `Processor.process` over the
records once and prints its N most expensive functions by own time. It prints its figures and exits non-zero only
when it cannot run.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable

import orjson

from benchmarks.normalizer.records import generate
from regpipe.contract.cloudevents import KafkaRecord
from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.errors import RecordDecodeError
from regpipe.contract.raw import RawHeaders
from regpipe.contract.sealing import RawSealer
from regpipe.normalize import Mapped, Processor, default_mappers
from regpipe.normalize.processor import normalized_record
from regpipe.providers.mapper import MappingError, RawInput
from regpipe.streaming import RawRecord

_TOPIC = "bench.raw"


def _rounds(step: Callable[[], object], rounds: int, count: int) -> dict[str, float]:
    """CPU microseconds per record of `step` (which handles `count` records), minimum and median of `rounds`."""
    per_record: list[float] = []
    for _ in range(rounds):
        started = time.process_time()
        step()
        per_record.append((time.process_time() - started) / count * 1e6)
    return {"min_us": round(min(per_record), 1), "median_us": round(statistics.median(per_record), 1)}


def main() -> None:
    """Build the records, measure each step, print the figures as JSON (and a profile when asked)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N top functions")
    args = parser.parse_args()

    specs = generate(args.records, seed=args.seed)
    raws = [RawRecord(_TOPIC, 0, index, s.key, s.value, s.headers) for index, s in enumerate(specs)]
    mappers = default_mappers()
    processor = Processor(mappers, RawSealer({}, None))

    # What the mappers see: parsed headers and the lineage, prepared once outside the measured step.
    inputs: list[tuple[Callable[[RawInput], list[CanonicalEvent]], RawInput]] = []
    for raw in raws:
        try:
            headers = RawHeaders.from_kafka(tuple(raw.headers))
        except RecordDecodeError:
            continue
        lineage = Lineage(topic=raw.topic, partition=raw.partition, offset=raw.offset)
        inputs.append((mappers[headers.source].map_record, RawInput(raw.value or b"", headers, lineage)))
    events: list[CanonicalEvent] = []
    for map_record, raw_input in inputs:
        try:
            events.extend(map_record(raw_input))
        except MappingError:
            continue
    if not events:
        sys.exit("no record mapped: nothing to measure")

    def map_all() -> None:
        for map_record, raw_input in inputs:
            with contextlib.suppress(MappingError):
                map_record(raw_input)

    def encode_all() -> list[KafkaRecord]:
        return [normalized_record(event) for event in events]

    def process_all() -> None:
        for raw in raws:
            processor.process(raw)

    mapped = sum(1 for raw in raws if isinstance(processor.process(raw), Mapped))
    count = len(raws)
    results = {
        "records": count,
        "mapped": mapped,
        "events": len(events),
        "events_per_raw_record": round(len(events) / count, 2),
        "rounds": args.rounds,
        # All three per raw record; encode covers every event of the records that mapped.
        "cpu_us_per_raw_record": {
            "map": _rounds(map_all, args.rounds, count),
            "encode": _rounds(encode_all, args.rounds, count),
            "process": _rounds(process_all, args.rounds, count),
        },
    }
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.runcall(process_all)
        pstats.Stats(profiler).sort_stats(pstats.SortKey.TIME).print_stats(args.cprofile)


if __name__ == "__main__":
    main()
