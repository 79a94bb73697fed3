import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from accounts.roles import Role, is_manager, role_of


def test_each_role_is_a_group_with_its_permissions(db):
    marketing = Group.objects.get(name=Role.MARKETING_MANAGER)
    account = Group.objects.get(name=Role.ACCOUNT_MANAGER)
    assert marketing.permissions.filter(codename="import_customers").exists()
    assert marketing.permissions.filter(codename="add_tag").exists()
    assert not account.permissions.filter(codename="import_customers").exists()
    assert not account.permissions.filter(codename="add_tag").exists()


def test_role_of_reads_the_users_group(mia, alice, admin_user):
    assert role_of(mia) == Role.MARKETING_MANAGER
    assert role_of(alice) == Role.ACCOUNT_MANAGER
    assert role_of(admin_user) == Role.ADMIN
    assert is_manager(mia) and is_manager(admin_user) and not is_manager(alice)


def test_a_user_without_a_role_is_no_manager(db):
    nobody = User.objects.create_user("nobody", password="x")
    assert role_of(nobody) is None
    assert not is_manager(nobody)


def test_add_user_creates_a_user_with_role_and_branch(shenzhen):
    call_command("add_user", "zoe", role="account_manager", password="s3cret-pw", branch="SZ01")
    zoe = User.objects.get(username="zoe")
    assert role_of(zoe) == Role.ACCOUNT_MANAGER
    assert zoe.branch == shenzhen
    assert zoe.check_password("s3cret-pw")


def test_add_user_again_changes_the_role_instead_of_adding_one(db):
    call_command("add_user", "zoe", role="account_manager", password="pw-one-two")
    call_command("add_user", "zoe", role="marketing_manager", password="pw-one-two")
    zoe = User.objects.get(username="zoe")
    assert list(zoe.groups.values_list("name", flat=True)) == ["marketing_manager"]


def test_add_user_refuses_an_unknown_branch(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown branch"):
        call_command("add_user", "zoe", role="account_manager", password="pw", branch="NOPE")
    assert not User.objects.filter(username="zoe").exists()


def test_admin_users_may_open_the_django_admin(web_as, admin_user, mia):
    assert web_as(admin_user).get("/admin/").status_code == 200


def test_demo_logins_prints_every_demo_user_and_the_password(db):
    from io import StringIO

    from accounts.demo import DEMO_PASSWORD, USERS

    out = StringIO()
    call_command("demo_logins", "--url", "http://127.0.0.1:8000/", stdout=out)
    printed = out.getvalue()
    assert "http://127.0.0.1:8000/" in printed and DEMO_PASSWORD in printed
    assert all(username in printed for username, *_rest in USERS)
