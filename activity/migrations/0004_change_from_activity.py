"""SQLite: the activity tables' feed triggers mark their rows as activity changes (customers 0007 does
it on PostgreSQL, in the shared trigger function)."""

import importlib

from django.db import migrations

INITIAL = importlib.import_module("activity.migrations.0001_initial")
TABLES = ("activity_holding", "activity_transaction", "activity_event")


def _recreate(schema_editor, flagged: bool) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in TABLES:
        for event in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_feed", params=None)
    for statement in INITIAL._sqlite_statements():
        if not any(f" ON {table} " in statement for table in TABLES):
            continue  # the product triggers log "everyone" (NULL), whoever reads them
        if flagged:
            statement = (statement.replace("(customer_id) VALUES (NEW.customer_id)", "(customer_id, activity) VALUES (NEW.customer_id, 1)")
                         .replace("(customer_id) VALUES (OLD.customer_id)", "(customer_id, activity) VALUES (OLD.customer_id, 1)")
                         .replace("(customer_id) SELECT NEW.customer_id", "(customer_id, activity) SELECT NEW.customer_id, 1"))
            assert "(customer_id) " not in statement, statement
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("activity", "0003_leaner_indexes"),
        ("customers", "0007_change_from_activity"),
    ]

    operations = [
        migrations.RunPython(lambda apps, editor: _recreate(editor, True), lambda apps, editor: _recreate(editor, False)),
    ]
