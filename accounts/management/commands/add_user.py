"""manage.py add_user USERNAME --role ROLE --password PW [--branch CODE]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import Branch
from accounts.roles import Role
from accounts.services import create_or_update_user


class Command(BaseCommand):
    help = "Create a user with a role, or update an existing user's role and password."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument("--password", required=True)
        parser.add_argument("--branch", help="branch code, e.g. SZ01")

    def handle(self, *args, username, role, password, branch, **options):
        if branch and not Branch.objects.filter(code=branch).exists():
            raise CommandError(_("Unknown branch %(code)s.") % {"code": branch})
        try:
            user = create_or_update_user(username=username, role=role, password=password, branch_code=branch)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(_("User %(username)s is now %(role)s.") % {"username": user.username, "role": Role(role).label})
