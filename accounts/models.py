"""Users, their branch (营业部) and, through groups, their role."""

from django.contrib.auth.models import AbstractUser
from django.db import models
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

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username
