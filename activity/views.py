"""Product pages: the catalogue, and one product's holders and buyers over time."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import Product
from .selectors import holders_per_product, product_figures


@login_required
def product_list(request):
    holders = holders_per_product(request.user)
    products = [(product, holders.get(product.pk, 0)) for product in Product.objects.all()]
    return render(request, "activity/product_list.html", {"products": products})


@login_required
def product_detail(request, code):
    product = get_object_or_404(Product, code=code)
    return render(request, "activity/product_detail.html", {"product": product, **product_figures(product, request.user)})
