"""The Monday e-mail: the weekly review's summary in the body, its workbook attached."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from campaigns.analytics.exports import summary_text, weekly_workbook
from campaigns.analytics.review import weekly_report
from core.exports import xlsx_bytes


def previous_week_label(today=None) -> str:

    day = (today or timezone.localdate()) - timedelta(days=7)
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def send_weekly_report(*, week: str | None = None) -> dict:
    """E-mail the weekly review (summary in the body, the workbook attached) to marketing managers.

    Beat calls it on Monday morning for the week that just ended.
    """


    report = weekly_report(week or previous_week_label())
    recipients = sorted(set(User.objects.filter(groups__name=Role.MARKETING_MANAGER, is_active=True)
                            .exclude(email="").values_list("email", flat=True)))
    if not recipients:
        return {"week": report["week"], "sent_to": []}
    message = EmailMessage(subject=_("LoopCRM weekly review %(week)s") % {"week": report["week"]},
                           body=summary_text(report), from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
    message.attach(f"loopcrm-weekly-{report['week']}.xlsx", xlsx_bytes(weekly_workbook(report)),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    message.send()
    return {"week": report["week"], "sent_to": recipients}
