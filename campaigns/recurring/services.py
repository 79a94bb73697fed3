"""Recurring campaigns: a template saved (checked as its waves will be), the checker's approval, and
beat's launch of each wave — a campaign of its own — when the template's contact window opens.

At most one wave per template and day holds because the campaign row is unique on (template,
wave_date): a beat run twice, or two beat processes, find the day's wave taken.
"""

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import is_manager
from campaigns.errors import CampaignError
from campaigns.lifecycle import services as lifecycle
from campaigns.models import Campaign, CampaignSettingChange, CampaignTemplate, unique_slug
from campaigns.triggers import conditions
from segments.compiler import checked_expression
from segments.expression import ExpressionError, to_text

logger = logging.getLogger(__name__)


def wave_name(template: CampaignTemplate, day: date) -> str:
    return f"{template.name} · {day.isoformat()}"


def wave_from(template: CampaignTemplate, day: date) -> Campaign:
    """The (unsaved) campaign of the template's wave on `day`: its settings as the template has them,
    tasks due that day by the end of the contact window."""
    wave = Campaign(name=wave_name(template, day), objective=template.plan, template=template, wave_date=day,
                    contact_from=template.window_start, contact_until=template.window_end, due_date=day,
                    owner_id=template.owner_id, suitability=True)
    for name in CampaignTemplate.WAVE_FIELDS:
        setattr(wave, name, getattr(template, name))
    return wave


def quiet_overlap(start: time, end: time) -> bool:
    """Whether any minute of [start, end) falls in the quiet hours (CONTACT_QUIET_HOURS)."""
    day = timezone.localdate()
    moment = datetime.combine(day, start, tzinfo=conditions.zone())
    stop = datetime.combine(day, end, tzinfo=conditions.zone())
    while moment < stop:
        if conditions.is_quiet(moment):
            return True
        moment += timedelta(minutes=1)
    return False


@transaction.atomic
def save_template(*, template: CampaignTemplate, by, managers=None, products=None) -> CampaignTemplate:
    """Create or change a template; every rule of its settings is checked here, and as a wave would be
    checked at launch (audience, assignment), so a saved template can launch. ValidationError {field:
    [message]}; ExpressionError (with its position) for the crowd. Changing what was approved withdraws
    the approval."""
    errors: dict[str, list[str]] = {}
    if template.window_start and template.window_end:
        if template.window_start >= template.window_end:
            errors["window_end"] = [_("The contact window ends after it starts (on the same day).")]
        elif quiet_overlap(template.window_start, template.window_end):
            errors["window_start"] = [_("The contact window falls in the quiet hours (%(hours)s): nobody may be "
                                        "contacted then.") % {"hours": settings.CONTACT_QUIET_HOURS}]
    if template.pk is None:
        template.owner = template.owner if template.owner_id else by
    _check_crowd(template)
    try:
        lifecycle.check_settings(wave_from(template, timezone.localdate()), managers=managers or [],
                                 products=products)
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            errors.setdefault(field, []).extend(problems)
    try:
        # The constraints' rules are checked above and by the fields' validators, each on its field.
        template.full_clean(validate_constraints=False)
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationError(errors)
    _withdraw_approval_if_changed(template, managers=managers, products=products)
    template.save()
    if managers is not None:
        template.account_managers.set(managers)
    if products is not None:
        template.products.set(products)
    return template


def _check_crowd(template: CampaignTemplate) -> None:
    if template.segment_id:
        if (template.text or "").strip():
            raise ValidationError({"text": [_("Use either a saved segment or an expression, not both.")]})
        template.expression, template.text = None, ""
        return
    if not (template.text or "").strip() and template.expression is None:
        raise ExpressionError(_("Choose a saved segment or write the crowd's expression."))
    tree = checked_expression(expression=template.expression, text=None if template.expression else template.text)
    template.expression, template.text = tree, to_text(tree)


def _withdraw_approval_if_changed(template: CampaignTemplate, *, managers, products) -> None:
    stored = CampaignTemplate.objects.filter(pk=template.pk).first() if template.pk else None
    if stored is None or stored.approved_by_id is None:
        return
    changed = [name for name in CampaignTemplate.APPROVED_FIELDS - {"account_managers", "products"}
               if getattr(stored, name) != getattr(template, name)]
    for name, given in (("account_managers", managers), ("products", products)):
        if given is not None and {getattr(item, "pk", item) for item in given} != set(
                getattr(stored, name).values_list("pk", flat=True)):
            changed.append(name)
    if changed:
        template.approved_by, template.approved_at = None, None


def approve_template(*, template: CampaignTemplate, by) -> CampaignTemplate:
    """The checker's approval of a template as it stands: a marketing manager other than its owner.
    Each wave launched under it records who approved the template."""
    with transaction.atomic():
        template = CampaignTemplate.objects.select_for_update().get(pk=template.pk)
        if not is_manager(by):
            raise CampaignError(_("Only a marketing manager can approve a template."))
        if template.owner_id == by.pk:
            raise CampaignError(_("A template needs a second marketing manager's approval: its owner cannot approve "
                                  "it."), conflict=True)
        if template.approved_by_id:
            raise CampaignError(_("Already approved by %(user)s.") % {"user": template.approved_by.username},
                                conflict=True)
        template.approved_by, template.approved_at = by, timezone.now()
        template.save(update_fields=["approved_by", "approved_at", "updated_at"])
    return template


def needs_approval(template: CampaignTemplate) -> bool:
    return settings.CAMPAIGN_APPROVAL_REQUIRED and template.approved_by_id is None


def launch_due_waves(*, now: datetime | None = None) -> list[int]:
    """Beat (every minute): launch the wave of every active template whose contact window is open now
    and has no wave today. Returns the waves queued for launch."""
    now = now or timezone.now()
    local = now.astimezone(conditions.zone())
    done = set(Campaign.objects.filter(template__isnull=False, wave_date=local.date())
               .exclude(status=Campaign.Status.DRAFT, launch_job=None).values_list("template_id", flat=True))
    due = CampaignTemplate.objects.filter(active=True, weekday=local.weekday(), window_start__lte=local.time(),
                                          window_end__gt=local.time()).exclude(pk__in=done)
    launched = []
    for template in due:
        try:
            wave = launch_wave(template=template, day=local.date())
        except Exception:  # noqa: BLE001 — one template's fault must not keep the others from launching
            logger.exception("recurring template %s: the wave of %s could not be launched", template.pk, local.date())
            continue
        if wave is not None and wave.status != Campaign.Status.CANCELLED:
            launched.append(wave.pk)
    return launched


def launch_wave(*, template: CampaignTemplate, day: date) -> Campaign | None:
    """The template's wave of `day`: created and queued for launch — or, when it cannot launch (an empty
    crowd, everyone excluded), kept cancelled with the reason, so the calendar says why. None when the
    template waits for approval or the day's wave is launched already. A wave created but not queued (the
    process died in between) is queued by the next run."""
    with transaction.atomic():
        template = CampaignTemplate.objects.select_for_update().get(pk=template.pk)
        wave = Campaign.objects.filter(template=template, wave_date=day).first()
        if wave is not None:
            if wave.status != Campaign.Status.DRAFT or wave.launch_job_id:
                return None
        elif needs_approval(template):
            return None
        else:
            wave = _create_wave(template, day)
            if wave is None:
                return None
    try:
        lifecycle.queue_launch(campaign=wave, by=template.owner)
    except CampaignError as error:
        lifecycle.cancel_campaign(campaign=wave, by=None, note=str(error))
    wave.refresh_from_db()
    return wave


def _create_wave(template: CampaignTemplate, day: date) -> Campaign | None:
    wave = wave_from(template, day)
    wave.slug = unique_slug(wave.name)
    wave.approved_by, wave.approved_at = template.approved_by, template.approved_at
    try:
        with transaction.atomic():
            lifecycle.save_campaign(campaign=wave, by=template.owner, managers=list(template.account_managers.all()),
                                    products=list(template.products.all()))
    except (ValidationError, ExpressionError, IntegrityError) as error:
        logger.warning("recurring template %s: wave of %s not created: %s", template.pk, day, error)
        return None
    if wave.approved_by_id:
        CampaignSettingChange.objects.create(
            campaign=wave, field="approval", by=template.approved_by, before="",
            after=(_("approved with its template “%(name)s”") % {"name": template.name})[:200])
    return wave
