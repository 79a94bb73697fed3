"""The campaigns' domain exception, shared by launching and the workspace."""


class CampaignError(Exception):
    """A request the campaign's state refuses; `conflict` means it clashes with what happened."""

    def __init__(self, message: str, *, conflict: bool = False):
        super().__init__(message)
        self.conflict = conflict
