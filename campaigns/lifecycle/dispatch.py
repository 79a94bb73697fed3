"""Assignment strategies: which account manager gets each task of a launch.

Each strategy turns into SQL over the launch plan (`p`) — run with parameters, so a literal
percent sign is written `%%` — where `p.rn` numbers the contactable
(treatment) customers from 0 in customer-id order within the strategy's partition. One small
function each, one registry; the launch runs the SQL in a single INSERT … SELECT.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import account_managers, present_account_managers
from campaigns.models import Campaign, Strategy, Task


class DispatchError(ValueError):
    """The campaign's assignment settings cannot assign anyone (said before launching)."""


@dataclass(frozen=True)
class Assignment:
    # Who gets row p, given how many treatment tasks the launch hands out. The SQL inlines
    # integers read from the database only, never user input.
    assignee_sql: Callable[[int], str]
    partition_sql: str  # what p.rn counts within
    unassignable_sql: str  # customers nobody can take (excluded as "no_account_manager")


def _pick(slot_sql: str, user_ids: list[int]) -> str:
    """CASE mapping slot 0..n-1 to a user id."""
    whens = " ".join(f"WHEN {slot} THEN {int(user_id)}" for slot, user_id in enumerate(user_ids))
    return f"CASE {slot_sql} {whens} END"


def chosen_managers(campaign: Campaign, managers: list[int] | None = None) -> list[int]:
    """The selected account managers that are still active, in a stable order."""
    selected = managers if managers is not None else campaign.account_managers.values("pk")
    # Present ones only: an account manager away today (User.away_until) gets no share of a launch.
    return list(present_account_managers(timezone.localdate()).filter(pk__in=selected).order_by("pk")
                .values_list("pk", flat=True))


def by_owner(campaign: Campaign, managers: list[int] | None) -> Assignment:
    """Each customer's own account manager; customers without one cannot be assigned."""
    active = list(account_managers().values_list("pk", flat=True))
    if not active:
        return Assignment(lambda _count: "NULL", "0", "1 = 1")
    listed = ", ".join(str(int(pk)) for pk in active)
    return Assignment(lambda _count: "p.owner_id", "0", f"(c.owner_id IS NULL OR c.owner_id NOT IN ({listed}))")


def round_robin(campaign: Campaign, managers: list[int] | None) -> Assignment:
    """Customers in id order dealt in turn to the chosen managers (counts differ by ≤ 1)."""
    managers = chosen_managers(campaign, managers)
    if not managers:
        raise DispatchError(_("Choose at least one active account manager for round robin."))
    return Assignment(lambda _count: _pick(f"(p.rn %% {len(managers)})", managers), "0", "1 = 0")


def least_open(campaign: Campaign, managers: list[int] | None) -> Assignment:
    """Fill the chosen managers with the fewest open tasks first, levelling everyone's queue.

    The quotas are computed here (water filling over current open counts); the SQL hands out
    consecutive ranks to each manager in turn.
    """
    managers = chosen_managers(campaign, managers)
    if not managers:
        raise DispatchError(_("Choose at least one active account manager for “fewest open tasks”."))
    return Assignment(lambda count: _levelling_sql(managers, count), "0", "1 = 0")


def _levelling_sql(managers: list[int], new_tasks: int) -> str:
    loads = open_task_counts(managers)
    quotas = level_quotas([loads.get(pk, 0) for pk in managers], new_tasks)
    whens, bound = [], 0
    for pk, quota in zip(managers, quotas, strict=True):
        if quota:
            bound += quota
            whens.append(f"WHEN p.rn < {bound} THEN {int(pk)}")
    if not whens:
        return "NULL"
    return f"CASE {' '.join(whens)} END"


def open_task_counts(managers: list[int]) -> dict[int, int]:
    rows = (Task.objects.filter(assignee__in=managers, group=Task.Group.TREATMENT, status__in=Task.OPEN_STATUSES)
            .values("assignee").annotate(open=Count("pk")).order_by())
    return {row["assignee"]: row["open"] for row in rows}


def level_quotas(loads: list[int], new_tasks: int) -> list[int]:
    """How many new tasks each manager gets so that the final loads are as level as possible.

    Raise the lowest queues first to a common level; what is left is spread one each, to the
    managers listed first. Σ quotas == new_tasks.
    """
    if not loads:
        return []
    order = sorted(range(len(loads)), key=lambda index: (loads[index], index))
    level, remaining, width = loads[order[0]], new_tasks, len(order)
    for position in range(1, len(order) + 1):
        # The `position` lowest queues stand at `level`; lifting them to the next queue costs `room`.
        next_load = loads[order[position]] if position < len(order) else None
        room = None if next_load is None else (next_load - level) * position
        if room is None or remaining < room:
            width, level, remaining = position, level + remaining // position, remaining % position
            break
        level, remaining = next_load, remaining - room
    quotas = [0] * len(loads)
    for index in order[:width]:
        quotas[index] = level - loads[index]
    for index in sorted(order[:width])[:remaining]:
        quotas[index] += 1
    return quotas


def by_branch(campaign: Campaign, managers: list[int] | None) -> Assignment:
    """Round robin within each branch over that branch's account managers (the chosen ones,
    or every active account manager of the branch when none are chosen)."""
    candidates = present_account_managers(timezone.localdate()).filter(branch__isnull=False)
    chosen = chosen_managers(campaign, managers)
    if chosen:
        candidates = candidates.filter(pk__in=chosen)
    per_branch: dict[int, list[int]] = {}
    for pk, branch_id in candidates.order_by("pk").values_list("pk", "branch_id"):
        per_branch.setdefault(branch_id, []).append(pk)
    if not per_branch:
        raise DispatchError(_("No active account manager belongs to a branch."))
    branches = " ".join(
        f"WHEN {int(branch_id)} THEN {_pick(f'(p.rn %% {len(users)})', users)}"
        for branch_id, users in sorted(per_branch.items()))
    listed = ", ".join(str(int(branch_id)) for branch_id in sorted(per_branch))
    return Assignment(lambda _count: f"CASE p.branch_id {branches} END", "p.branch_id",
                      f"(c.branch_id IS NULL OR c.branch_id NOT IN ({listed}))")


STRATEGIES = {
    Strategy.OWNER: by_owner,
    Strategy.ROUND_ROBIN: round_robin,
    Strategy.LEAST_OPEN: least_open,
    Strategy.BRANCH: by_branch,
}


def assignment_for(campaign: Campaign, managers: list[int] | None = None) -> Assignment:
    """The strategy's SQL; `managers` overrides the campaign's chosen ones (unsaved campaigns)."""
    return STRATEGIES[Strategy(campaign.strategy)](campaign, managers)
