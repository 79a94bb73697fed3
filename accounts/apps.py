from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # Role groups and their permissions exist after every migrate, on every database.
        # No sender: permissions of apps migrated after this one must be granted too.
        post_migrate.connect(_ensure_role_groups, weak=False, dispatch_uid="loopcrm-role-groups")


def _ensure_role_groups(**kwargs):
    from .services import ensure_role_groups

    ensure_role_groups()
