"""The audience index answering the customer list (customers.listing): filter → bitmap, page → ids.

Registered in SegmentsConfig.ready(). It never makes a page wait for a build: while this process has
no index yet, or needs a whole rebuild, it answers None and the list goes the SQL way; the build runs
in the background and the next page uses it.
"""

from dataclasses import dataclass

from pyroaring import BitMap

from accounts.models import Branch, User

from . import engine


@dataclass(frozen=True)
class IndexedIds:
    """The customers a list filter selects, with the index snapshot that selected them (pages are
    ordered by the same snapshot)."""

    index: engine.AudienceIndex
    members: BitMap

    def ordered(self, key: str, descending: bool, offset: int, limit: int) -> list[int]:
        labels = None
        if key == "branch":
            labels = dict(Branch.objects.values_list("id", "code"))
        elif key == "owner":
            owners = [pk for pk in self.index.categorical["owner"] if pk is not None]
            labels = dict(User.objects.filter(pk__in=owners).values_list("id", "username"))
        return self.index.ordered_ids(self.members, key, descending, offset, limit, labels=labels)


class AudienceListIndex:
    def matching(self, criteria) -> IndexedIds | None:
        index = engine.index_if_ready()
        if index is None:
            return None
        parts = [index.categorical["owner"].get(criteria.visible_to_owner, BitMap())] \
            if criteria.visible_to_owner is not None else []
        parts += [index.tags.get(tag_id, BitMap()) for tag_id in criteria.tag_ids]
        for name, value in (("branch", criteria.branch_id), ("owner", criteria.owner_id),
                            ("lifecycle_stage", criteria.lifecycle_stage), ("risk_level", criteria.risk_level)):
            if value is not None:
                parts.append(index.categorical[name].get(value, BitMap()))
        if criteria.assets_min is not None or criteria.assets_max is not None:
            low = None if criteria.assets_min is None else float(criteria.assets_min)
            high = None if criteria.assets_max is None else float(criteria.assets_max)
            parts.append(index.numeric["assets"].range(low, True, high, True))
        if criteria.search_ids is not None:
            parts.append(BitMap(criteria.search_ids))
        if not parts:
            return IndexedIds(index, index.universe)
        parts.sort(key=len)  # narrow from the smallest
        result = parts[0] & index.universe
        for part in parts[1:]:
            result &= part
        return IndexedIds(index, result)
