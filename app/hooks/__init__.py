"""Signed outbound webhooks (CONTRACT.md §12): endpoints, queueing, delivery, retries."""
