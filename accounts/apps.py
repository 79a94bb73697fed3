from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # Imported here, not at the top: services use the models, which exist once apps are ready.
        from . import navigation
        from .roles import Role
        from .services import ensure_role_groups

        # Role groups and their permissions exist after every migrate, on every database.
        # No sender: permissions of apps migrated after this one must be granted too.
        post_migrate.connect(lambda **kwargs: ensure_role_groups(), weak=False, dispatch_uid="loopcrm-role-groups")
        navigation.register("admin:index", _("Admin"), roles={Role.ADMIN}, order=90)
