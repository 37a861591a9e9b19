"""Which worker process consumes which queue: the booking loop's, and outbound webhooks' apart
(a receiver may take 10 s to answer; those waits must never hold a thread bookings need)."""

MAIN_QUEUES = ("default", "deadlines")  # events, messages, the sweep's rows: `worker`
WEBHOOK_QUEUES = ("webhooks",)  # deliver_webhook: the `webhooks` process
