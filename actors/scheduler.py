"""The one process that enqueues the periodic sweep, once a second."""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger("fixline.scheduler")

INTERVAL_SECONDS = 1.0


def main() -> None:
    """Enqueue `sweep` every second until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(message)s")
    import actors

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("started; sweep every %.0fs", INTERVAL_SECONDS)
    failing = False
    while not stop.is_set():
        try:
            actors.tasks.sweep.send()
            if failing:
                log.info("broker reachable again")
            failing = False
        except Exception as exc:  # broker down: keep trying, deadlines live in the database
            if not failing:
                log.warning("cannot enqueue sweep: %s", exc)
            failing = True
        stop.wait(INTERVAL_SECONDS)
    log.info("stopped")


if __name__ == "__main__":
    main()
