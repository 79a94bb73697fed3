"""The demo branches and users: made by `seed_demo`, printed by `demo_logins` (what `make run` shows)."""

from .roles import Role
from .services import create_or_update_user, ensure_branch

DEMO_PASSWORD = "loopcrm-demo"  # noqa: S105 - printed by `make run`, demo data only

BRANCHES = [
    ("SZ01", "深圳福田营业部", "Shenzhen"), ("SH02", "上海陆家嘴营业部", "Shanghai"),
    ("BJ01", "北京金融街营业部", "Beijing"), ("GZ01", "广州天河营业部", "Guangzhou"),
    ("HZ01", "杭州钱江新城营业部", "Hangzhou"), ("CD01", "成都高新营业部", "Chengdu"),
]
# (username, role, branch, first name, last name)
USERS = [
    ("admin", Role.ADMIN, None, "Ada", "Admin"),
    ("mia", Role.MARKETING_MANAGER, None, "Mia", "Marketing"),
    ("alice", Role.ACCOUNT_MANAGER, "SZ01", "Alice", "Wang"),
    ("bob", Role.ACCOUNT_MANAGER, "SH02", "Bob", "Li"),
    ("chen", Role.ACCOUNT_MANAGER, "BJ01", "Chen", "Zhao"),
    ("dina", Role.ACCOUNT_MANAGER, "GZ01", "Dina", "Liu"),
    ("evan", Role.ACCOUNT_MANAGER, "HZ01", "Evan", "Sun"),
    ("fang", Role.ACCOUNT_MANAGER, "CD01", "Fang", "Zhou"),
]


def ensure_demo_users() -> None:
    """The demo branches and one user per demo login (idempotent; resets their passwords)."""
    for code, name, city in BRANCHES:
        ensure_branch(code=code, name=name, city=city)
    for username, role, branch, first, last in USERS:
        create_or_update_user(username=username, role=role, password=DEMO_PASSWORD, branch_code=branch,
                              first_name=first, last_name=last)
