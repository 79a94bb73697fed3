"""manage.py seed_demo — idempotent demo data: branches, users of each role, and the
45,211 bank-marketing customers with their tags, spread across account managers."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from accounts.services import create_or_update_user, ensure_branch
from customers.importing import import_customers
from customers.models import Customer
from customers.services import record_change

BANK_FILE = Path(settings.BASE_DIR) / "data" / "bank-marketing" / "bank-full.csv"
DEMO_PASSWORD = "loopcrm-demo"  # noqa: S105 - printed by `make run`, demo data only

BRANCHES = [
    ("SZ01", "深圳福田营业部", "Shenzhen"), ("SH02", "上海陆家嘴营业部", "Shanghai"),
    ("BJ01", "北京金融街营业部", "Beijing"), ("GZ01", "广州天河营业部", "Guangzhou"),
    ("HZ01", "杭州钱江新城营业部", "Hangzhou"), ("CD01", "成都高新营业部", "Chengdu"),
]
# (username, role, branch, first name, last name)
USERS = [
    ("admin", Role.ADMIN, None, "Ada", "Admin"),
    ("mia", Role.MARKETING_MANAGER, None, "Mia", "Marketing"),
    ("alice", Role.ACCOUNT_MANAGER, "SZ01", "Alice", "Wang"),
    ("bob", Role.ACCOUNT_MANAGER, "SH02", "Bob", "Li"),
    ("chen", Role.ACCOUNT_MANAGER, "BJ01", "Chen", "Zhao"),
    ("dina", Role.ACCOUNT_MANAGER, "GZ01", "Dina", "Liu"),
    ("evan", Role.ACCOUNT_MANAGER, "HZ01", "Evan", "Sun"),
    ("fang", Role.ACCOUNT_MANAGER, "CD01", "Fang", "Zhou"),
]


class Command(BaseCommand):
    help = "Load demo branches, users and the bank-marketing customers (safe to run again)."

    def handle(self, *args, **options):
        for code, name, city in BRANCHES:
            ensure_branch(code=code, name=name, city=city)
        for username, role, branch, first, last in USERS:
            create_or_update_user(username=username, role=role, password=DEMO_PASSWORD, branch_code=branch,
                                  first_name=first, last_name=last)
        report = import_customers(BANK_FILE, mapping="bank-marketing")
        self.stdout.write(_("Customers: created %(c)d, updated %(u)d, unchanged %(n)d, rejected %(r)d.")
                          % {"c": report.created, "u": report.updated, "n": report.unchanged, "r": report.rejected})
        spread = self.spread_customers()
        self.stdout.write(_("Gave %(n)d customers an account manager and branch.") % {"n": spread})

    @transaction.atomic
    def spread_customers(self) -> int:
        """Round-robin the unowned demo customers over the account managers (by id, so stable)."""
        managers = list(User.objects.filter(groups__name=Role.ACCOUNT_MANAGER, username__in=[u[0] for u in USERS])
                        .order_by("username"))
        unowned = Customer.objects.filter(owner__isnull=True, external_id__startswith="bank-")
        given = 0
        for index, manager in enumerate(managers):
            given += unowned.annotate(slot=F("id") % len(managers)).filter(slot=index).update(
                owner=manager, branch_id=manager.branch_id,
            )
        if given:
            record_change(None)
        return given
