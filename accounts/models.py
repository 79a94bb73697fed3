"""Users, their branch (营业部) and, through groups, their role."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import refuse_control_characters


class Branch(models.Model):
    """A branch office (营业部); customers and account managers belong to one."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=120, validators=[refuse_control_characters])
    city = models.CharField(_("city"), max_length=80, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class User(AbstractUser):
    """A person who signs in. The role is the user's role group (see accounts.roles)."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="members",
    )
    # API tokens issued before this moment are void: a password change (any way: page, admin,
    # command) ends every token, as it ends every session.
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True, editable=False)
    # When the user last opened their task queue: what is new since then is pointed out there.
    queue_seen_at = models.DateTimeField(_("queue last seen"), null=True, blank=True, editable=False)
    # Routing of key-event tasks (campaigns.triggers.routing): how many new tasks a day this account
    # manager takes (empty: no limit), and an absence through this day (skipped while away).
    daily_capacity = models.PositiveSmallIntegerField(_("tasks per day"), null=True, blank=True,
                                                      help_text=_("Empty: no daily limit."))
    away_until = models.DateField(_("away until"), null=True, blank=True,
                                  help_text=_("Absent through this day: new tasks go to colleagues."))

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()


class ApiToken(models.Model):
    """One API sign-in. Only a digest of the key is stored: the key is shown once, when issued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80, blank=True, validators=[refuse_control_characters])
    digest = models.CharField(max_length=64, unique=True, editable=False)  # SHA-256 of the key, hex
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("issued"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
