"""A lease holder in a process of its own, for freezing it with SIGSTOP: `python -m tests.leadership.lease_holder
DSN NAME TTL_S`. Prints `acquired`, then `act <monotonic time>` each time it acts as leader, and `lost` when the
leader loop stops it; then it stands by again until SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

from regpipe.leadership import ExpiringLease, LeaderState, LeaseLostError, Shift, run_while_leader


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _main(dsn: str, name: str, ttl_s: float) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    lease = ExpiringLease(dsn, name, service="test-holder", ttl_s=ttl_s, retry_interval_s=0.1, stop=stop)

    async def lead(shift: Shift) -> None:
        while True:
            with shift.step():
                await lease.ensure_held()  # the fencing check a poller makes before each poll and ACK
                _say(f"act {time.monotonic()}")
            await asyncio.sleep(0.02)

    def entered(state: LeaderState) -> None:
        if state is LeaderState.LEADING:
            _say("acquired")

    def lost(exc: LeaseLostError) -> None:
        _say("lost")

    await run_while_leader(lease, lead, stop, check_interval_s=0.05, shutdown_grace_s=1, on_state=entered, on_lost=lost)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
