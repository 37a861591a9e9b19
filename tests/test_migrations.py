"""Migrations build an empty database that matches the models, and roll back cleanly."""

from playhouse.schema_diff import diff_models

from app.db import db
from app.migrate import pending, runner, upgrade
from app.models import MODELS


def test_upgrade_from_empty_matches_models(app):
    with db.connection_context():
        assert pending() == []
        assert not diff_models(db.obj, MODELS), diff_models(db.obj, MODELS)
        assert upgrade() == []  # nothing left to apply


def test_partial_indexes_exist(app):
    with db.connection_context():
        names = {index.name for model in MODELS
                 for index in db.obj.get_indexes(model._meta.table_name)}
    for name in ("appointment_one_active_per_ticket", "ping_pending_expires_at",
                 "ticket_escalate_at_open", "event_unhandled", "ticket_alert_due_at_open",
                 "appointment_remind_at_open", "appointment_no_show_at_open", "ping_token",
                 "ticket_dispatch_at_open", "vendor_insurance_notice_at_open",
                 "message_send_after_held", "appointment_vendor_active_starts",
                 "appointment_vendor_no_show", "ping_vendor_sent",
                 "vendor_landlord_asking_order", "webhook_delivery_due"):
        assert name in names


def test_down_then_up_again(app):
    with db.connection_context():
        reverted = runner().down()
        assert reverted == ["0013_redundant_indexes"]
        for _ in range(12):
            reverted += runner().down()
        assert reverted == ["0013_redundant_indexes", "0012_languages", "0011_webhooks",
                            "0010_digests", "0009_selection_indexes", "0008_choosing",
                            "0007_visits",
                            "0006_escalation_alerts", "0005_limits",
                            "0004_event_handled_at",
                            "0003_event_landlord_index", "0002_ticket_photos", "0001_initial"]
        assert not any(db.obj.table_exists(m._meta.table_name) for m in MODELS)
        assert upgrade() == ["0001_initial", "0002_ticket_photos", "0003_event_landlord_index",
                             "0004_event_handled_at", "0005_limits",
                             "0006_escalation_alerts", "0007_visits", "0008_choosing",
                             "0009_selection_indexes", "0010_digests", "0011_webhooks",
                             "0012_languages", "0013_redundant_indexes"]
        assert not diff_models(db.obj, MODELS)
