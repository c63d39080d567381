"""The Twilio emulator in a process of its own: `python -m bench.emulator --port P`.

The service talks to it over loopback as it would to Twilio; the benchmark steers it through
its admin API (latency, request log). The pool is scaled up: the bulk run buys ~1,000 numbers.
"""

from __future__ import annotations

import argparse
import time

from twilio_emulator import EmulatorServer, EmulatorState

SEED = 7
POOL_SCALE = 8


def state() -> EmulatorState:
    return EmulatorState(seed=SEED, pool_scale=POOL_SCALE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    emulator = state()
    emulator.pool("US", "local")  # generate the (scaled) pool now, not in the first search
    server = EmulatorServer(emulator, "127.0.0.1", args.port).start()
    print(f"emulator on {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
