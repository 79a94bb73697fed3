"""Who takes a key-event task: the customer's own account manager while present and under their daily
capacity; else the branch colleague with the most capacity left (weighted: the lowest share of their
capacity used today); else the branch's pool, from which any of its account managers takes it; else
nobody (a customer with no branch). Inactive and absent users are never chosen.

One Router per batch: it reads today's assignments once and counts what the batch adds.
"""

from collections import defaultdict
from datetime import datetime

from django.db.models import Count

from accounts.selectors import present_account_managers
from campaigns.lifecycle.dispatch import open_task_counts
from campaigns.models import Task
from customers.models import Customer
from segments.timebounds import day_start

from . import conditions

POOL = 0  # the branch pool: a task without an assignee, for the customer's branch


class Router:
    def __init__(self, now: datetime):
        today = now.astimezone(conditions.zone()).date()
        managers = list(present_account_managers(today).values_list("pk", "branch_id", "daily_capacity"))
        self.capacity = {pk: capacity for pk, _branch, capacity in managers}
        self.by_branch = defaultdict(list)
        for pk, branch, _capacity in managers:
            if branch is not None:
                self.by_branch[branch].append(pk)
        self.today: dict[int, int] = defaultdict(int)
        limited = [pk for pk, capacity in self.capacity.items() if capacity is not None]
        if limited:  # today's count matters only to managers with a capacity
            rows = (Task.objects.filter(assignee__in=limited, group=Task.Group.TREATMENT,
                                        created_at__gte=day_start(today))
                    .values("assignee").annotate(n=Count("pk")).order_by())
            self.today.update({row["assignee"]: row["n"] for row in rows})
        self._open: dict[int, int] | None = None

    def _has_room(self, pk: int) -> bool:
        capacity = self.capacity.get(pk, 0)
        return pk in self.capacity and (capacity is None or self.today[pk] < capacity)

    def _used(self, pk: int) -> float:
        capacity = self.capacity[pk]
        return 0.0 if capacity is None else self.today[pk] / capacity

    def _open_tasks(self) -> dict[int, int]:
        if self._open is None:
            self._open = defaultdict(int, open_task_counts(list(self.capacity)))
        return self._open

    def task_for(self, customer: Customer) -> int | None:
        """The assignee's id, POOL for the branch pool, or None (nobody can take it). Counts it."""
        chosen = self._person(customer, need_room=True)
        if chosen is not None:
            self.today[chosen] += 1
            self._open_tasks()[chosen] += 1
            return chosen
        return POOL if customer.branch_id is not None else None

    def alert_for(self, customer: Customer) -> int | None:
        """Whom to alert: the owner while present, else a present branch colleague (no capacity: an
        alert is not a task)."""
        return self._person(customer, need_room=False)

    def _person(self, customer: Customer, *, need_room: bool) -> int | None:
        owner = customer.owner_id
        if owner in self.capacity and (not need_room or self._has_room(owner)):
            return owner
        colleagues = [pk for pk in self.by_branch.get(customer.branch_id, ()) if not need_room or self._has_room(pk)]
        if not colleagues:
            return None
        loads = self._open_tasks()
        return min(colleagues, key=lambda pk: (self._used(pk), loads[pk], pk))
