"""Reads for recurring campaigns: the week grid, and a template's waves on their own and together."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.analytics.stored import stored_metrics
from campaigns.analytics.waves import pooled
from campaigns.models import Campaign, CampaignTemplate, Weekday

from .services import needs_approval

# What a template's cell of the grid says about its wave of that day.
STATES = {
    "launched": _("Launched"),
    "launching": _("Launching"),
    "skipped": _("Did not launch"),
    "planned": _("Planned"),
    "open": _("Window open: launching"),
    "missed": _("No wave (the window passed)"),
    "not_planned": _("Not planned yet then"),
    "awaiting_approval": _("Awaiting approval"),
    "inactive": _("Inactive"),
}


@dataclass
class Cell:
    template: CampaignTemplate
    wave: Campaign | None
    state: str

    @property
    def state_label(self) -> str:
        return STATES[self.state]


@dataclass
class Day:
    weekday: int
    label: str
    day: date
    is_today: bool
    cells: list[Cell] = field(default_factory=list)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_grid(monday: date, *, now: datetime | None = None) -> list[Day]:
    """The week from `monday`: each day's templates in window order, with that day's wave and its state."""
    now = timezone.localtime(now or timezone.now())
    days = [Day(weekday=number, label=label, day=monday + timedelta(days=number), is_today=monday + timedelta(
        days=number) == now.date()) for number, label in Weekday.choices]
    waves = {(wave.template_id, wave.wave_date): wave for wave in Campaign.objects.filter(
        template__isnull=False, wave_date__gte=monday, wave_date__lte=monday + timedelta(days=6))}
    for template in CampaignTemplate.objects.select_related("segment", "approved_by").order_by(
            "weekday", "window_start", "name"):
        day = days[template.weekday]
        wave = waves.get((template.pk, day.day))
        day.cells.append(Cell(template, wave, _state(template, wave, day.day, now)))
    return days


def _state(template: CampaignTemplate, wave: Campaign | None, day: date, now: datetime) -> str:
    if wave is not None:
        if wave.status == Campaign.Status.CANCELLED and wave.launched_at is None:
            return "skipped"
        return "launched" if wave.launched_at else "launching"
    if not template.active:
        return "inactive"
    if needs_approval(template):
        return "awaiting_approval"
    opens = datetime.combine(day, template.window_start, tzinfo=now.tzinfo)
    closes = datetime.combine(day, template.window_end, tzinfo=now.tzinfo)
    if closes <= template.created_at:
        return "not_planned"  # the window was over before the template existed: nothing was missed
    if now < opens:
        return "planned"
    return "open" if now < closes else "missed"


def template_waves(template: CampaignTemplate) -> tuple[list[dict], dict]:
    """Each launched wave with its own figures (newest first), and all of them together."""
    waves = list(template.waves.order_by("-wave_date"))
    figures = stored_metrics([wave.pk for wave in waves if wave.launched_at])
    rows = [{"wave": wave, "figures": figures.get(wave.pk)} for wave in waves]
    return rows, pooled([figures[wave.pk] for wave in waves if wave.pk in figures])
