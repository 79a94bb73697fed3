from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from .services import ensure_role_groups

        # Role groups and their permissions exist after every migrate, on every database.
        post_migrate.connect(lambda **kwargs: ensure_role_groups(), sender=self, weak=False)
