"""The change feed says which changes came from the activity tables (CustomerChange.activity): the
shared PostgreSQL trigger function writes it; SQLite's activity triggers are rewritten by
activity 0004."""

import importlib

from django.db import migrations, models

FEED = importlib.import_module("customers.migrations.0002_change_feed")
OLD_INSERT = "INSERT INTO {changes} (customer_id, txid, at)\n        SELECT unnest(touched), pg_current_xact_id()::text::bigint, now();"
NEW_INSERT = ("INSERT INTO {changes} (customer_id, txid, at, activity)\n        SELECT unnest(touched), "
              "pg_current_xact_id()::text::bigint, now(), TG_TABLE_NAME LIKE 'activity\\_%';")


def _function(insert: str) -> str:
    old = OLD_INSERT.format(changes=FEED.CHANGES)
    assert old in FEED.POSTGRES_FUNCTION
    return FEED.POSTGRES_FUNCTION.replace(old, insert.format(changes=FEED.CHANGES))


def add_column(apps, schema_editor):
    false = "false" if schema_editor.connection.vendor == "postgresql" else "0"
    schema_editor.execute(f"ALTER TABLE {FEED.CHANGES} ADD COLUMN activity boolean NOT NULL DEFAULT {false}", params=None)


def drop_column(apps, schema_editor):
    schema_editor.execute(f"ALTER TABLE {FEED.CHANGES} DROP COLUMN activity", params=None)


def flag_activity(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_function(NEW_INSERT), params=None)


def unflag_activity(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FEED.POSTGRES_FUNCTION, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0006_refuse_unstorable_json"),
    ]

    operations = [
        # In place on both databases: SQLite's table remake (Django's way to add a column with a database
        # default) drops the feed table from under the triggers of every other table that writes to it.
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(
                model_name="customerchange",
                name="activity",
                field=models.BooleanField(db_default=False),
            )],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.RunPython(flag_activity, unflag_activity),
    ]
