"""factory_boy factories for every model the tests create."""

import factory
from django.contrib.auth.models import Group

from accounts.models import Branch, User
from accounts.roles import Role
from customers.models import Customer, CustomerTag, Tag


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.LazyAttribute(lambda branch: f"Branch {branch.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if not create or not extracted:
            return
        role = Role(extracted)
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save()
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"tag-{n}")
    name = factory.LazyAttribute(lambda tag: tag.slug)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    assets = 10_000

    @factory.post_generation
    def tags(customer, create, extracted, **kwargs):
        for tag in extracted or []:
            CustomerTag.objects.create(customer=customer, tag=tag)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Campaign"

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    channel = "phone"
    text = "vip"
    expression = {"tag": "vip"}
    owner = factory.SubFactory(UserFactory, role="marketing_manager")
    holdout_seed = 12345


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Task"

    campaign = factory.SubFactory(CampaignFactory, status="running")
    customer = factory.SubFactory(CustomerFactory)
    created_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())
    updated_at = factory.LazyAttribute(lambda task: task.created_at)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "activity.Product"
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.LazyAttribute(lambda product: f"Product {product.code}")
    type = "fund"
    risk_level = 3
