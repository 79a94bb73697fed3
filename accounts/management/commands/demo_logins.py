"""manage.py demo_logins --url URL — what `make run` prints: where to go and who to be."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from accounts.demo import DEMO_PASSWORD, USERS


class Command(BaseCommand):
    help = "Print the URL and the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        self.stdout.write("")
        self.stdout.write(_("LoopCRM is starting at %(url)s") % {"url": url})
        self.stdout.write(_("Demo logins (password for all: %(pw)s):") % {"pw": DEMO_PASSWORD})
        for username, role, branch, _first, _last in USERS:
            self.stdout.write(f"  {username:<8} {role.label}{' · ' + branch if branch else ''}")
        self.stdout.write("")
