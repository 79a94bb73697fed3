from django.db import migrations
from django.utils.translation import gettext_noop

# Labels are stored in English and translated when shown (the catalogue holds these msgids).
DEFAULT_REASONS = [
    ("price", gettext_noop("Price / fees"), False),
    ("risk", gettext_noop("Risk too high"), False),
    ("timing", gettext_noop("Bad timing"), False),
    ("competitor", gettext_noop("Has a competitor's product"), False),
    ("no_need", gettext_noop("No need"), False),
    ("other", gettext_noop("Other"), True),
]


def add_reasons(apps, schema_editor):
    FailureReason = apps.get_model("campaigns", "FailureReason")
    for position, (code, label, needs_text) in enumerate(DEFAULT_REASONS):
        FailureReason.objects.get_or_create(code=code, defaults={"label": label, "needs_text": needs_text,
                                                                 "position": position})


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_outcomes")]
    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
