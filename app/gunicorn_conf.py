"""Gunicorn settings for `make run` (`gunicorn -c python:app.gunicorn_conf wsgi:app`)."""

workers = 2
threads = 4  # gthread: 2 processes x 4 threads
graceful_timeout = 8  # below the supervisor's 10 s grace before SIGKILL
errorlog = "-"
# Requests are logged by the app itself (fixline.access, with request ids), so no accesslog;
# add `--access-logfile -` through GUNICORN_CMD_ARGS to get gunicorn's as well.
control_socket_disable = True  # gunicorn >= 24 would otherwise share ~/.gunicorn/gunicorn.ctl
