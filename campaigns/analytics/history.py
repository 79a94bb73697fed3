"""Import of past contacts: completed campaigns and their tasks, so a team starts with its history.

A history file has the columns `customer_external_id, campaign, channel, contacted_at, result,
amount` (result: converted, interested, call_back, not_interested, declined, unreachable,
wrong_number, refused). The UCI bank-marketing file (`;`-separated, columns … contact, day, month,
pdays, poutcome, y) is recognised and replayed through the same writer:
- every row is a contact of campaign `bank-term-deposit` with `contact` as the channel and
  `y` = yes → converted, no → declined; the date is `day` `month` with the year inferred from the
  file's order (May 2008 – November 2010: the year turns when the month goes back);
- `poutcome` success / failure is the result of `bank-previous-campaign`, contacted `pdays` days
  earlier (channel not recorded); `other` and `unknown` say nothing about that campaign and are skipped.
Row-level problems are reported and those rows skipped; the rest is written set-based in one
transaction, and importing the same file again adds nothing (one task per campaign and customer).
"""

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from campaigns.analytics.result_tags import tag_results
from campaigns.analytics.stored import refresh_metrics
from campaigns.models import Campaign, CampaignTransition, Outcome, Task, unique_slug
from core import services as job_services
from core.bulk import copy_rows, create_temp_table, drop_temp_tables
from core.models import Job
from customers.importing import ImportFileError, read_table
from customers.models import Customer

COLUMNS = ["customer_external_id", "campaign", "channel", "contacted_at", "result", "amount"]
RESULTS = {outcome.value: outcome.parts for outcome in Outcome}
BANK_COLUMNS = {"contact", "day", "month", "pdays", "poutcome", "y"}
MONTHS = {name: number for number, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
STAGE_TABLE = "campaign_history_stage"


@dataclass
class HistoryReport:
    rows: int = 0
    campaigns_created: list[str] = field(default_factory=list)
    tasks_created: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)
    campaign_ids: list[int] = field(default_factory=list)

    def as_result(self) -> dict:
        return {"rows": self.rows, "campaigns_created": self.campaigns_created, "tasks_created": self.tasks_created,
                "unchanged": self.unchanged, "rejected": self.rejected, "campaigns": self.campaign_ids}


def read_history(path) -> pd.DataFrame:
    """The file as history rows (strings), the bank-marketing layout translated."""
    frame = read_table(path)
    if BANK_COLUMNS <= set(frame.columns):
        return bank_marketing_history(frame)
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ImportFileError(_("The history file lacks the columns: %(columns)s (expected %(expected)s).") % {
            "columns": ", ".join(missing), "expected": ", ".join(COLUMNS)})
    frame = frame[COLUMNS].copy()
    frame["line"] = np.arange(2, len(frame) + 2)  # header is line 1
    return frame


def bank_marketing_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the UCI file as contacts of bank-term-deposit and bank-previous-campaign."""
    months = frame["month"].str.strip().str.lower().map(MONTHS)
    year = 2008 + (months.fillna(0).diff().fillna(0) < 0).cumsum()
    dates = pd.to_datetime(pd.DataFrame({"year": year, "month": months, "day": pd.to_numeric(
        frame["day"], errors="coerce")}), errors="coerce")
    lines = np.arange(2, len(frame) + 2)
    external_ids = "bank-" + pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype(str)
    current = pd.DataFrame({
        "customer_external_id": external_ids, "campaign": "bank-term-deposit",
        "channel": frame["contact"].str.strip(),
        "contacted_at": dates.dt.strftime("%Y-%m-%d").fillna(""),
        "result": frame["y"].str.strip().map({"yes": "converted", "no": "declined"}).fillna(frame["y"]),
        "amount": "", "line": lines})
    pdays = pd.to_numeric(frame["pdays"], errors="coerce")
    outcome = frame["poutcome"].str.strip()
    known = outcome.isin(["success", "failure"]) & (pdays > 0)
    previous = pd.DataFrame({
        "customer_external_id": external_ids[known], "campaign": "bank-previous-campaign", "channel": "",
        "contacted_at": (dates[known] - pd.to_timedelta(pdays[known], unit="D")).dt.strftime("%Y-%m-%d").fillna(""),
        "result": outcome[known].map({"success": "converted", "failure": "declined"}), "amount": "",
        "line": lines[known.to_numpy()]})
    return pd.concat([current, previous], ignore_index=True)


# How contacted_at may be written: YYYY-MM-DD (optionally with HH:MM[:SS]) always; day-first or
# month-first slashes only when the file's format is chosen (03/04/2025 is 3 April in one, 4 March
# in the other, and the old parser picked one silently).
DATE_FORMATS = {"dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}
ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$"


def contact_times(values: pd.Series, date_format: str | None) -> tuple[pd.Series, pd.Series]:
    """(the contact times, whether each gave a time of day); NaT where a value is not a date."""
    text = values.fillna("").astype(str).str.strip()
    iso = text.str.match(ISO_DATE)
    parsed = pd.to_datetime(text.where(iso), errors="coerce", format="ISO8601")
    if date_format:
        if date_format not in DATE_FORMATS:
            raise ImportFileError(_("Unknown date format %(format)s; use one of: %(formats)s.")
                                  % {"format": date_format, "formats": ", ".join(DATE_FORMATS)})
        pattern = DATE_FORMATS[date_format]
        for suffix in ("", " %H:%M", " %H:%M:%S"):
            parsed = parsed.fillna(pd.to_datetime(text.where(~iso), errors="coerce", format=pattern + suffix))
    return parsed, text.str.contains(":")


def _check(frame: pd.DataFrame, date_format: str | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Valid rows with typed columns, and an error per rejected row (line, column, value, message)."""
    errors = []

    def reject(mask, column, message):
        for line, value in zip(frame.loc[mask, "line"], frame.loc[mask, column], strict=True):
            # The same numbering as customer imports: the data row, and the file's line (header = 1).
            errors.append({"row": int(line) - 1, "line": int(line), "column": column, "value": str(value)[:100],
                           "message": message})

    for column in ("customer_external_id", "campaign", "channel", "contacted_at", "result", "amount"):
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    bad = pd.Series(False, index=frame.index)
    for column, message in (("customer_external_id", _("The customer id is empty.")),
                            ("campaign", _("The campaign name is empty."))):
        mask = frame[column] == ""
        reject(mask, column, message)
        bad |= mask
    long_name = frame["campaign"].str.len() > 160
    reject(long_name & ~bad, "campaign", _("The campaign name is longer than 160 characters."))
    bad |= long_name
    result = frame["result"].str.lower()
    mask = ~result.isin(list(RESULTS)) & ~bad
    reject(mask, "result", _("Unknown result; use one of: %(results)s.") % {"results": ", ".join(RESULTS)})
    bad |= mask
    frame["result"] = result
    dates, has_time = contact_times(frame["contacted_at"], date_format)
    ambiguous = dates.isna() & frame["contacted_at"].str.match(r"^\d{1,2}[/.]\d{1,2}[/.]\d{4}") & ~bad
    reject(ambiguous, "contacted_at", _(
        "Write the date as YYYY-MM-DD, or choose the file's date format: 03/04/2025 could be 3 April or 4 March."))
    bad |= ambiguous
    mask = dates.isna() & ~bad
    reject(mask, "contacted_at", _("Not a date (use YYYY-MM-DD, or YYYY-MM-DD HH:MM with the time of day)."))
    bad |= mask
    amounts = pd.to_numeric(frame["amount"].str.replace(",", "", regex=False).replace("", np.nan), errors="coerce")
    mask = ((amounts.isna() & (frame["amount"] != "")) | (amounts < 0) | (amounts >= 1e14)) & ~bad
    reject(mask, "amount", _("The amount must be a number, zero or more."))
    bad |= mask
    ids = _customer_ids(frame.loc[~bad, "customer_external_id"].unique().tolist())
    frame["customer_id"] = frame["customer_external_id"].map(ids)
    mask = frame["customer_id"].isna() & ~bad
    reject(mask, "customer_external_id", _("No customer has this external id (import the customers first)."))
    bad |= mask
    # History goes into campaigns it created, never into one run in LoopCRM (whose audience, tasks
    # and revenue it would silently change: a running campaign gained a task and 1,000,000 revenue).
    names = frame.loc[~bad, "campaign"].unique().tolist()
    live = set(Campaign.objects.filter(name__in=names, imported=False).values_list("name", flat=True))
    mask = frame["campaign"].isin(live) & ~bad
    reject(mask, "campaign", _("A campaign with this name was created in LoopCRM; history is only added to "
                               "imported campaigns. Give these rows another campaign name."))
    bad |= mask
    duplicate = frame.duplicated(["campaign", "customer_external_id"], keep="first") & ~bad
    reject(duplicate, "customer_external_id", _("The same customer appears twice in this campaign; the first row counts."))
    bad |= duplicate
    valid = frame.loc[~bad].copy()
    zone = ZoneInfo(settings.TIME_ZONE)
    # A time of day given is kept, in TIME_ZONE; a bare date is noon of that day (the middle of it).
    valid["completed_at"] = [
        datetime.combine(day.date(), day.time() if timed else time(12), tzinfo=zone)
        for day, timed in zip(dates[~bad], has_time[~bad], strict=True)]
    valid["amount"] = amounts[~bad]
    errors.sort(key=lambda error: error["row"])
    return valid, errors


def _customer_ids(external_ids: list[str]) -> dict[str, int]:
    found = {}
    for start in range(0, len(external_ids), 10_000):
        found.update(Customer.objects.filter(external_id__in=external_ids[start:start + 10_000])
                     .values_list("external_id", "id"))
    return found


def import_history(path, *, by=None, date_format: str | None = None) -> HistoryReport:
    """Read, check and write a history file (see the module docstring)."""
    frame = read_history(path)
    report = HistoryReport(rows=len(frame))
    valid, report.errors = _check(frame, date_format)
    report.rejected = len({error["row"] for error in report.errors})
    with transaction.atomic():
        for name, rows in valid.groupby("campaign", sort=True):
            campaign, created = _history_campaign(name, rows, by)
            if created:
                report.campaigns_created.append(campaign.name)
            report.campaign_ids.append(campaign.pk)
            written = _write_tasks(campaign, rows)
            report.tasks_created += written
            report.unchanged += len(rows) - written
            _refresh_counts(campaign)
    return report


def _history_campaign(name: str, rows: pd.DataFrame, by) -> tuple[Campaign, bool]:
    existing = Campaign.objects.select_for_update().filter(name=name).first()
    first, last = rows["completed_at"].min(), rows["completed_at"].max()
    if existing:
        if not existing.imported:  # created meanwhile in LoopCRM: refused, as _check refuses it
            raise ImportFileError(_("The campaign “%(name)s” was created in LoopCRM while the file was being read; "
                                    "import again.") % {"name": name})
        # An imported campaign spans its contacts (the weeks it belongs to).
        Campaign.objects.filter(pk=existing.pk).update(launched_at=min(filter(None, [existing.launched_at, first])),
                                                       closed_at=max(filter(None, [existing.closed_at, last])))
        return existing, False
    owner = by or _fallback_owner()
    campaign = Campaign.objects.create(
        name=name, slug=unique_slug(name), owner=owner, status=Campaign.Status.COMPLETED, launched_at=first,
        closed_at=last, launched_text=_("imported history"), objective=_("Imported from past contacts."), imported=True,
        expression=None, text="", audience_size=0, holdout_size=0, task_count=0, holdout_pct=0)
    CampaignTransition.objects.create(campaign=campaign, from_status="", to_status=Campaign.Status.COMPLETED,
                                      by=by, note=_("imported history"))
    return campaign, True


def _fallback_owner():

    owner = User.objects.filter(is_superuser=True).order_by("pk").first() or User.objects.order_by("pk").first()
    if owner is None:
        raise ImportFileError(_("Create a user first: imported campaigns need an owner."))
    return owner


def _write_tasks(campaign: Campaign, rows: pd.DataFrame) -> int:
    contact = rows["result"].map(lambda result: RESULTS[result][0])
    response = rows["result"].map(lambda result: RESULTS[result][1])
    stage = pd.DataFrame({
        "customer_id": rows["customer_id"].astype("int64"), "channel": rows["channel"].str.slice(0, 32),
        "contact_result": contact, "response": response, "amount": rows["amount"],
        "completed_at": [connection.ops.adapt_datetimefield_value(value) for value in rows["completed_at"]]})
    quote = connection.ops.quote_name
    create_temp_table(STAGE_TABLE, "(customer_id bigint, channel varchar(32), contact_result varchar(16), "
                                   "response varchar(16), amount numeric(16, 2), completed_at "
                                   + ("timestamptz)" if connection.vendor == "postgresql" else "datetime)"))
    copy_rows(STAGE_TABLE, list(stage.columns), stage)
    columns = ["campaign_id", "customer_id", "assignee_id", "group", "channel", "status", "priority", "due_date",
               "version", "contact_result", "response", "failure_reason", "failure_note", "amount", "product", "note",
               "completed_at", "created_at", "updated_at"]
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {quote(Task._meta.db_table)} ({", ".join(quote(column) for column in columns)})
            SELECT %s, s.customer_id, NULL, 'treatment', s.channel, 'done', 2, NULL, 1, s.contact_result, s.response,
                   '', '', s.amount, '', '', s.completed_at, s.completed_at, %s
            FROM {STAGE_TABLE} s WHERE 1 = 1
            ON CONFLICT DO NOTHING""", [campaign.pk, connection.ops.adapt_datetimefield_value(timezone.now())])
        written = cursor.rowcount
    drop_temp_tables(STAGE_TABLE)
    return written


def _refresh_counts(campaign: Campaign) -> None:
    """An imported campaign's audience is the customers it contacted (a launched one keeps its own)."""
    if not campaign.imported:
        return
    count = Task.objects.filter(campaign=campaign, group=Task.Group.TREATMENT).count()
    Campaign.objects.filter(pk=campaign.pk).update(audience_size=count, task_count=count)


# --- as a background job (the upload page) ---------------------------------------------------------

HISTORY_KIND = "import_history"


def history_folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "history"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def queue_history_import(*, upload, by, date_format: str | None = None):
    """Store the uploaded file and enqueue its import once the job row is committed."""
    if date_format and date_format not in DATE_FORMATS:
        raise ImportFileError(_("Unknown date format %(format)s; use one of: %(formats)s.")
                              % {"format": date_format, "formats": ", ".join(DATE_FORMATS)})
    return job_services.queue_upload_job(
        upload=upload, folder=history_folder(), allowed_suffixes=(".csv", ".txt", ".xlsx"), kind=HISTORY_KIND,
        task="campaigns.jobs.import_history", by=by, params={"date_format": date_format}, refuse=ImportFileError)


def run_history_import(*, job_id: str) -> dict:
    """The job: import, then refresh the metrics and result tags of the campaigns it touched."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.result
    job_services.start_job(job_id=job_id, stage=_("Importing past contacts"))
    path = history_folder() / f"{job.pk}{job.params.get('suffix', '.csv')}"
    try:
        report = import_history(path, by=job.created_by, date_format=job.params.get("date_format"))
    except ImportFileError as error:
        job_services.fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": str(error)}])
        path.unlink(missing_ok=True)
        return {}
    for campaign_id in report.campaign_ids:
        refresh_metrics(campaign_id=campaign_id, force=True)
        tag_results(campaign=Campaign.objects.get(pk=campaign_id))
    job_services.finish_job(job_id=job_id, result=report.as_result(), errors=report.errors[:1000])
    path.unlink(missing_ok=True)
    return report.as_result()
