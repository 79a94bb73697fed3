"""Fewer, smaller indexes on the two big activity tables (see Transaction.Meta): each imported row paid for
a LIKE-only copy of the external id's unique index, and for a (customer, day) index four times the size
of the customer's alone. The new unique constraint is built before the old one goes, so the external
id is never without one."""

import importlib

from django.db import migrations, models

REMADE = ("activity_transaction", "activity_event")


def recreate_sqlite_feed_triggers(apps, schema_editor):
    """SQLite alters a column by remaking its table, which drops the table's change-feed triggers
    (0001_initial); PostgreSQL alters in place and keeps them."""
    if schema_editor.connection.vendor != "sqlite":
        return
    initial = importlib.import_module("activity.migrations.0001_initial")
    for table in REMADE:
        for event in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_feed", params=None)
    for statement in initial._sqlite_statements():
        if any(f" ON {table} " in statement for table in REMADE):
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("activity", "0002_refuse_unstorable_json"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_feed_triggers),  # last when reversed
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(fields=("external_id",), name="event_external_id_unique"),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.UniqueConstraint(fields=("external_id",), name="transaction_external_id_unique"),
        ),
        migrations.AlterField(
            model_name="event",
            name="external_id",
            field=models.CharField(max_length=64, verbose_name="external id"),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="external_id",
            field=models.CharField(max_length=64, verbose_name="external id"),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["customer"], name="event_customer_idx"),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["customer"], name="transaction_customer_idx"),
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="event_customer_day_idx",
        ),
        migrations.RemoveIndex(
            model_name="transaction",
            name="transaction_customer_day_idx",
        ),
        migrations.RunPython(recreate_sqlite_feed_triggers, migrations.RunPython.noop),
    ]
