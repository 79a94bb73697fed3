"""Campaign use cases: save, move through the lifecycle, launch (set-based), reassign tasks."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import is_manager
from campaigns.errors import CampaignError
from campaigns.lifecycle import launch
from campaigns.lifecycle.dispatch import DispatchError
from campaigns.models import Campaign, CampaignSettingChange, CampaignTransition, ContactLimit, Strategy, Task, unique_slug
from core import services as job_services
from core.models import Job
from segments.compiler import checked_expression
from segments.expression import ExpressionError, to_text

logger = logging.getLogger(__name__)


LAUNCH_KIND = "launch_campaign"


Status = Campaign.Status


# Which status may follow which (the launch job is the only way into RUNNING).
TRANSITIONS = {
    Status.DRAFT: {Status.SCHEDULED, Status.RUNNING, Status.CANCELLED},
    Status.SCHEDULED: {Status.DRAFT, Status.RUNNING, Status.CANCELLED},
    Status.RUNNING: {Status.COMPLETED, Status.CANCELLED},
    Status.COMPLETED: set(),
    Status.CANCELLED: set(),
}


@transaction.atomic
def save_campaign(*, campaign: Campaign, by, managers=None, products=None) -> Campaign:
    """Create or update a campaign; every rule of a campaign's settings is checked here, once.

    The form, the API, commands and the admin all call this, so each gets the same field errors
    (ValidationError {field: [message]}; ExpressionError with a position for the audience):
    - after launch the launch settings (Campaign.LAUNCH_FIELDS) cannot change;
    - the audience is a saved segment or an expression, never both, and must resolve now;
    - round robin and fewest open tasks need account managers;
    - a due date cannot be in the past (unless it is the one already stored);
    - the end date is not before the start;
    - switching the suitability check off (or creating a campaign without it) is recorded.
    `products` (Product objects or ids) replaces the products promoted when given.
    """
    check_settings(campaign, managers=managers, products=products)
    _withdraw_approval_if_changed(campaign, by, managers=managers, products=products)
    stored_suitability = (Campaign.objects.filter(pk=campaign.pk).values_list("suitability", flat=True).first()
                          if campaign.pk else None)
    if campaign.pk is None:
        campaign.owner = campaign.owner if campaign.owner_id else by
        if not campaign.slug:
            campaign.slug = unique_slug(campaign.name)
    if campaign.is_editable:
        _check_audience(campaign)
    campaign.full_clean(exclude=["launch_job"])
    created = campaign.pk is None
    campaign.save()
    if managers is not None:
        campaign.account_managers.set(managers)
    if products is not None:
        campaign.products.set(products)
    if created:
        _record(campaign, "", campaign.status, by)
    if campaign.suitability != (True if stored_suitability is None else stored_suitability):
        CampaignSettingChange.objects.create(campaign=campaign, field="suitability", by=by,
                                             before="" if created else str(stored_suitability).lower(),
                                             after=str(campaign.suitability).lower())
    return campaign


def _withdraw_approval_if_changed(campaign: Campaign, by, *, managers, products) -> None:
    """An approval covers the settings that were approved: changing a launch setting withdraws it."""
    stored = Campaign.objects.filter(pk=campaign.pk).first() if campaign.pk else None
    if stored is None or stored.approved_by_id is None or not stored.is_editable:
        return
    changed = sorted(name for name in Campaign.LAUNCH_FIELDS if _changed(stored, campaign, name, managers, products))
    if changed:
        campaign.approved_by, campaign.approved_at = None, None
        CampaignSettingChange.objects.create(campaign=campaign, field="approval", by=by,
                                             before=stored.approved_by.username,
                                             after=(_("withdrawn: %(fields)s changed") % {
                                                 "fields": ", ".join(changed)})[:200])


def approve_campaign(*, campaign: Campaign, by) -> Campaign:
    """The checker's approval: a marketing manager (or admin) other than the campaign's owner, of a
    campaign not launched yet. Recorded; the launch can then go ahead."""
    with transaction.atomic():
        campaign = _locked(campaign)
        if not is_manager(by):
            raise CampaignError(_("Only a marketing manager can approve a campaign."))
        if campaign.owner_id == by.pk:
            raise CampaignError(_("A campaign needs a second marketing manager's approval: its owner cannot approve "
                                  "it."), conflict=True)
        if not campaign.is_editable:
            raise CampaignError(_("This campaign was already launched (it is %(status)s).") % {
                "status": campaign.get_status_display().lower()}, conflict=True)
        if campaign.approved_by_id:
            raise CampaignError(_("Already approved by %(user)s.") % {"user": campaign.approved_by.username},
                                conflict=True)
        campaign.approved_by, campaign.approved_at = by, timezone.now()
        campaign.save(update_fields=["approved_by", "approved_at", "updated_at"])
        CampaignSettingChange.objects.create(campaign=campaign, field="approval", by=by, before="",
                                             after=_("approved"))
    return campaign


def _check_approved(campaign: Campaign) -> None:
    if settings.CAMPAIGN_APPROVAL_REQUIRED and campaign.approved_by_id is None:
        raise CampaignError(_("This campaign needs a second marketing manager's approval before it can launch or "
                              "be scheduled."), conflict=True)


def check_settings(campaign: Campaign, *, managers=None, products=None) -> None:
    """Raise ValidationError {field: [message]} for every broken settings rule (see save_campaign).

    Public so that a form can show these errors beside its own input errors in one round trip.
    """
    stored = Campaign.objects.filter(pk=campaign.pk).first() if campaign.pk else None
    if stored is not None and not stored.is_editable:
        locked = sorted(name for name in Campaign.LAUNCH_FIELDS
                        if _changed(stored, campaign, name, managers, products))
        if locked:
            raise ValidationError({name: [_("Cannot change after launch.")] for name in locked})
        return
    errors = {}
    if campaign.segment_id and (campaign.expression is not None or (campaign.text or "").strip()):
        errors["text"] = [_("Use either a saved segment or an expression, not both.")]
    if managers is None:
        managers = list(stored.account_managers.all()) if stored else []
    if campaign.strategy in (Strategy.ROUND_ROBIN, Strategy.LEAST_OPEN) and not managers:
        errors["account_managers"] = [_("Choose the account managers to share the tasks.")]
    if campaign.due_date and campaign.due_date < timezone.localdate() and (
            stored is None or campaign.due_date != stored.due_date):
        errors["due_date"] = [_("The due date is in the past.")]
    if campaign.end_date and campaign.start_at and campaign.end_date < timezone.localtime(campaign.start_at).date():
        errors["end_date"] = [_("The end date is before the start.")]
    if errors:
        raise ValidationError(errors)


def _changed(stored: Campaign, campaign: Campaign, name: str, managers, products=None) -> bool:
    if name in ("account_managers", "products"):
        given = managers if name == "account_managers" else products
        return given is not None and {getattr(item, "pk", item) for item in given} != set(
            getattr(stored, name).values_list("pk", flat=True))
    return getattr(stored, name) != getattr(campaign, name)


def _check_audience(campaign: Campaign) -> None:
    if campaign.segment_id:
        campaign.expression, campaign.text = None, ""
        return
    if campaign.expression is None and not campaign.text:
        raise ExpressionError(_("Choose a saved segment or write an audience expression."))
    tree = checked_expression(expression=campaign.expression, text=None if campaign.expression else campaign.text)
    campaign.expression, campaign.text = tree, to_text(tree)


def _record(campaign: Campaign, from_status: str, to_status: str, by, note: str = "") -> None:
    CampaignTransition.objects.create(campaign=campaign, from_status=from_status, to_status=to_status, by=by,
                                      note=note[:200])


def _move(campaign: Campaign, to_status: str, by, note: str = "") -> Campaign:
    """Validated status change, recorded with who and when. Caller holds the row lock."""
    if to_status not in TRANSITIONS[Status(campaign.status)]:
        raise CampaignError(_("A %(status)s campaign cannot become %(target)s.") % {
            "status": campaign.get_status_display().lower(), "target": Status(to_status).label.lower()},
            conflict=True)
    from_status = campaign.status
    campaign.status = to_status
    if to_status in (Status.COMPLETED, Status.CANCELLED):
        campaign.closed_at = timezone.now()
    campaign.save(update_fields=["status", "closed_at", "updated_at"])
    _record(campaign, from_status, to_status, by, note)
    return campaign


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


@transaction.atomic
def schedule_campaign(*, campaign: Campaign, by) -> Campaign:
    campaign = _locked(campaign)
    _check_approved(campaign)
    if campaign.start_at is None or campaign.start_at <= timezone.now():
        raise CampaignError(_("Set a start time in the future to schedule the campaign."))
    return _move(campaign, Status.SCHEDULED, by)


@transaction.atomic
def unschedule_campaign(*, campaign: Campaign, by, note: str = "") -> Campaign:
    return _move(_locked(campaign), Status.DRAFT, by, note)


@transaction.atomic
def complete_campaign(*, campaign: Campaign, by) -> Campaign:
    """Close a running campaign; tasks nobody worked leave the queues as cancelled."""
    campaign = _locked(campaign)
    _move(campaign, Status.COMPLETED, by)
    _cancel_open_tasks(campaign)
    transaction.on_commit(lambda: job_services.enqueue("campaigns.jobs.tag_campaign_results", campaign.pk))  # close the loop
    return campaign


@transaction.atomic
def cancel_campaign(*, campaign: Campaign, by, note: str = "") -> Campaign:
    campaign = _locked(campaign)
    if campaign.launch_job_id and not campaign.launch_job.is_finished:
        raise CampaignError(_("The campaign is being launched; cancel it once the launch has finished."),
                            conflict=True)
    _move(campaign, Status.CANCELLED, by, note)
    _cancel_open_tasks(campaign)
    return campaign


def _cancel_open_tasks(campaign: Campaign) -> int:
    return Task.objects.filter(campaign=campaign, group=Task.Group.TREATMENT, status__in=Task.OPEN_STATUSES).update(
        status=Task.Status.CANCELLED, version=F("version") + 1, updated_at=timezone.now())


def queue_launch(*, campaign: Campaign, by) -> Job:
    """Check the campaign can launch and enqueue the launch job once; a repeat gets the same job.

    Refuses (CampaignError) an empty audience or settings that assign nobody before any job
    exists, so the page and the API can say why at once.
    """
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.launch_job_id and not campaign.launch_job.is_finished:
            return campaign.launch_job  # a double click or a retried request: the same job
        if campaign.status not in (Status.DRAFT, Status.SCHEDULED):
            raise CampaignError(_("This campaign was already launched (it is %(status)s).") % {
                "status": campaign.get_status_display().lower()}, conflict=True)
        _check_approved(campaign)
        plan = preflight(campaign)
        job = job_services.queue_job(kind=LAUNCH_KIND, task="campaigns.jobs.launch_campaign", by=by,
                                     params={"campaign_id": campaign.pk}, total=plan.treatment + plan.holdout)
        campaign.launch_job = job
        campaign.save(update_fields=["launch_job", "updated_at"])
    return Job.objects.get(pk=job.pk)


def launch_preview(*, campaign: Campaign, managers: list[int] | None = None, products=None) -> launch.LaunchPlan:
    """What a launch would do now (writes nothing); CampaignError if the settings cannot work."""
    try:
        return launch.preview_launch(campaign, now=timezone.now(), managers=managers, products=products)
    except (DispatchError, ExpressionError) as error:
        raise CampaignError(str(error)) from error


def preflight(campaign: Campaign) -> launch.LaunchPlan:
    """The plan a launch would carry out now, or a CampaignError saying why it cannot launch."""
    plan = launch_preview(campaign=campaign)
    if plan.audience == 0:
        raise CampaignError(_("The audience is empty: there is nobody to launch this campaign to."))
    if plan.treatment + plan.holdout == 0:
        raise CampaignError(_("Every customer of the audience is excluded (%(reasons)s): nobody to contact.") % {
            "reasons": ", ".join(f"{launch.EXCLUSION_REASONS[reason]} {count}" for reason, count in plan.excluded.items())})
    return plan


def run_launch(*, job_id: str) -> dict:
    """The launch job: all tasks in one transaction, or none. Safe to run twice."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.result
    job_services.start_job(job_id=job_id, stage=_("Creating tasks"), total=job.total)
    campaign_id = job.params["campaign_id"]
    try:
        result = _launch_in_transaction(campaign_id=campaign_id, job=job)
    except CampaignError as error:
        job_services.fail_job(job_id=job_id, errors=[{"message": str(error)}])
        _return_to_draft_if_scheduled(campaign_id, job, str(error))
        return {}
    except (OperationalError, IntegrityError):
        raise  # the database went away or raced: the job retries, nothing was kept
    except Exception:
        logger.exception("launch %s failed", job_id)
        job_services.fail_job(job_id=job_id, errors=[{"message": _(
            "The launch stopped on an unexpected error and created no tasks. The error is logged; please tell an admin.")}])
        raise
    job_services.finish_job(job_id=job_id, result=result)
    return result


@transaction.atomic
def _launch_in_transaction(*, campaign_id: int, job: Job) -> dict:
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status == Status.RUNNING and campaign.launch_job_id == job.pk:
        return _launch_result(campaign)  # committed before a crash: report, do not redo
    if campaign.status not in (Status.DRAFT, Status.SCHEDULED):
        raise CampaignError(_("This campaign is %(status)s and cannot be launched.") % {
            "status": campaign.get_status_display().lower()})
    now = timezone.now()
    try:
        plan, written = launch.plan_and_write(campaign, now=now, write=True)
    except (DispatchError, ExpressionError) as error:
        raise CampaignError(str(error)) from error
    if written == 0:
        raise CampaignError(_("The audience is empty after exclusions: no task was created."))
    campaign.launched_text = plan.text
    campaign.audience_size, campaign.excluded = plan.audience, plan.excluded
    campaign.holdout_size, campaign.task_count = plan.holdout, plan.treatment
    campaign.launched_at = now
    campaign.save(update_fields=["launched_text", "audience_size", "excluded", "holdout_size", "task_count",
                                 "launched_at", "updated_at"])
    _move(campaign, Status.RUNNING, job.created_by, _("%(tasks)d tasks, %(holdout)d in holdout") % {
        "tasks": plan.treatment, "holdout": plan.holdout})
    return _launch_result(campaign)


def _launch_result(campaign: Campaign) -> dict:
    return {"campaign": campaign.pk, "audience": campaign.audience_size, "excluded": campaign.excluded,
            "holdout": campaign.holdout_size, "tasks": campaign.task_count}


def _return_to_draft_if_scheduled(campaign_id: int, job: Job, reason: str) -> None:
    """A scheduled launch that cannot run goes back to draft, saying why, instead of retrying forever."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status == Status.SCHEDULED:
            _move(campaign, Status.DRAFT, None, reason)


def launch_due_campaigns() -> int:
    """Beat: launch every scheduled campaign whose start time has come."""
    due = Campaign.objects.filter(status=Status.SCHEDULED, start_at__lte=timezone.now())
    launched = 0
    for campaign in due:
        try:
            queue_launch(campaign=campaign, by=campaign.owner)
            launched += 1
        except CampaignError as error:
            unschedule_campaign(campaign=campaign, by=None, note=str(error))
        except Exception as error:  # noqa: BLE001 — one campaign's fault must not keep the others from launching
            logger.exception("Scheduled campaign %s could not be launched", campaign.pk)
            unschedule_campaign(campaign=campaign, by=None, note=_(
                "The scheduled launch failed (%(error)s); it went back to draft. Check its audience and "
                "settings, then schedule it again.") % {"error": type(error).__name__})
    return launched


# --- contact-pressure limits ---------------------------------------------------------------------

def save_contact_limit(*, by, channel: str, period_days: int, max_contacts: int,
                       exempt_service: bool = True) -> ContactLimit:
    """Add a limit, or change the one on this channel and period. Every launch and key-event rule
    obeys it from now on (campaigns.lifecycle.pressure)."""
    limit = ContactLimit.objects.filter(channel=channel, period_days=period_days).first() or ContactLimit(
        channel=channel, period_days=period_days, created_by=by)
    limit.max_contacts, limit.exempt_service = max_contacts, exempt_service
    limit.full_clean(validate_unique=False)
    limit.save()
    return limit


def delete_contact_limit(*, pk: int) -> int:
    return ContactLimit.objects.filter(pk=pk).delete()[0]
