"""Per-object writes (admin, factories, save()) record a data change like the services do.

Set-based writes (imports, bulk tagging, queryset.update) fire no signals; their services call
record_change themselves. Link deletions only happen in services or by cascade from a customer
or tag, whose own signals cover them.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Customer, CustomerTag, Tag
from .services import record_change


@receiver(post_save, sender=Customer, dispatch_uid="customer-saved")
@receiver(post_delete, sender=Customer, dispatch_uid="customer-deleted")
def customer_changed(sender, instance, **kwargs):
    record_change([instance.pk])


@receiver(post_save, sender=CustomerTag, dispatch_uid="customer-tag-saved")
def customer_tag_changed(sender, instance, **kwargs):
    record_change([instance.customer_id])


@receiver(post_save, sender=Tag, dispatch_uid="tag-saved")
@receiver(post_delete, sender=Tag, dispatch_uid="tag-deleted")
def tag_changed(sender, instance, created=False, **kwargs):
    if kwargs.get("signal") is post_save and created:
        return  # a new tag carries no customers yet
    record_change(None)
