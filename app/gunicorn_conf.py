"""Gunicorn settings for `make run` (`gunicorn -c python:app.gunicorn_conf wsgi:app`)."""

from app import feed as _feed

workers = 2
# gthread: 2 processes x 4 threads for requests, plus one thread for each request a process may
# hold waiting for a change (app/web/live.py, LIVE_WAITS_PER_PROCESS; beyond it pages poll), so
# held requests never take the 4 from the others. gthread starts threads as they are needed.
threads = 4 + (_feed.waits_per_process() if _feed.enabled_by_env() else 0)
graceful_timeout = 8  # below the supervisor's 10 s grace before SIGKILL
errorlog = "-"
# Requests are logged by the app itself (fixline.access, with request ids), so no accesslog;
# add `--access-logfile -` through GUNICORN_CMD_ARGS to get gunicorn's as well.
control_socket_disable = True  # gunicorn >= 24 would otherwise share ~/.gunicorn/gunicorn.ctl


def post_worker_init(worker) -> None:
    """On SIGTERM/SIGINT/SIGQUIT, held requests answer at once, so a stop never waits for them
    (graceful_timeout) and the pages poll until the server is back."""
    import signal

    from app import feed

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum, frame, previous=previous):
            feed.current().stop()
            previous(signum, frame)

        signal.signal(sig, handler)
