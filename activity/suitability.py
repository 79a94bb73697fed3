"""Investor suitability (投资者适当性): who may be offered a product of risk level Rk.

A customer assessed at level n may be offered products of level n and below; a customer with no
assessment, level 1 products only. One rule for every writer and reader: a campaign's launch
(excluded as `unsuitable`) and the next best product (never suggested) both go through here.
"""

from django.db.models import QuerySet

from .models import Product

UNASSESSED_RISK_LEVEL = 1


def customer_risk_level(customer) -> int:
    return customer.risk_level or UNASSESSED_RISK_LEVEL


def suitable_products(customer) -> QuerySet[Product]:
    return Product.objects.filter(risk_level__lte=customer_risk_level(customer))
