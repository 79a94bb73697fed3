"""Reports as tables: the weekly workbook (summary + one sheet per breakdown) and the
dashboard's CSV exports. Every number shown in a chart is in one of these tables.

Money and rates are number cells with number formats (they sum and sort in a spreadsheet, and
read as the pages show them); codes are written as their labels, in the reader's language.
"""

from django.utils.translation import gettext as _

from campaigns.templatetags.campaigns_extras import channel_label
from core.exports import ROI_FORMAT, money, rate

RATE_HEADER = ["tasks", "contacted", "reached", "interested", "converted", "success_rate", "revenue"]


def _rate_rows(rows: list[dict], key: str) -> list[list]:
    label = channel_label if key == "channel" else (lambda value: value or "")
    return [[label(row.get(key) or "")] + [row.get(name) for name in RATE_HEADER[:5]]
            + [rate(row.get("success_rate")), money(row.get("revenue"))] for row in rows]


def _header(first: str) -> list[str]:
    return [first, _("Customers"), _("Contacted"), _("Reached"), _("Interested"), _("Converted"), _("Success rate"),
            _("Revenue")]


def _reason_rows(rows: list[dict], key: str) -> list[list]:
    return [[row["label"], row["count"]] for row in rows]


def _campaign_rows(campaigns: list[dict]) -> tuple[list[str], list[list]]:
    header = [_("Campaign"), _("Status"), _("Owner"), _("Contacted this week"), _("Converted this week"),
              _("Contacted to date"), _("Converted to date"), _("Success rate to date"), _("Revenue to date"),
              _("Cost to date"), _("ROI to date"), _("Bought after launch, treated"), _("Bought after launch, holdout"),
              _("Uplift vs holdout"), _("Recommendation"), _("Why")]
    rows = []
    for row in campaigns:
        week, total = row.get("period") or {}, row.get("to_date") or {}
        lift = total.get("uplift") or {}
        attributed = total.get("attributed") or {}
        rows.append([row["name"], row.get("status_label", row["status"]), row["owner"], week.get("contacted", 0),
                     week.get("converted", 0), total.get("contacted"), total.get("converted"),
                     rate(total.get("success_rate")), money(total.get("revenue")), money(total.get("cost")),
                     rate(total.get("roi"), ROI_FORMAT),
                     rate(attributed["treatment"]["rate"]) if attributed else "",
                     rate(attributed["control"]["rate"]) if attributed else "",
                     rate(lift.get("value")) if lift.get("enough_data") else _("not enough data"),
                     str(row.get("action_label", row["action"])), row["reason"]])
    return header, rows


def weekly_workbook(report: dict) -> dict:
    summary = report["summary"]
    summary_rows = [[_("Week"), report["week"]], [_("From"), report["start"]], [_("To"), report["end"]]]
    summary_rows += [[label, summary.get(key)] for label, key in (
        (_("Customers launched"), "launched"), (_("Contacted"), "contacted"), (_("Contact attempts"), "attempts"),
        (_("Reached"), "reached"), (_("Interested"), "interested"), (_("Converted"), "converted"))]
    summary_rows += [[_("Success rate"), rate(summary.get("success_rate"))], [_("Revenue"), money(summary.get("revenue"))],
                     [_("Cost"), money(summary.get("cost"))], [_("ROI"), rate(summary.get("roi"), ROI_FORMAT)],
                     [_("To date as of"), report.get("as_of", "")]]
    summary_rows += [[_("Rule"), rule] for rule in report["rules"]]
    sheets = {
        _("Summary"): ([_("Item"), _("Value")], summary_rows),
        _("Campaigns"): _campaign_rows(report["campaigns"]),
        _("Channels"): (_header(_("Channel")), _rate_rows(report["by_channel"], "channel")),
        _("Account managers"): (_header(_("Account manager")),
                                _rate_rows(report["by_account_manager"], "account_manager")),
        _("Branches"): (_header(_("Branch")), _rate_rows(report["by_branch"], "branch")),
        _("Segments"): (_header(_("Segment")), _rate_rows(report["by_segment"], "segment")),
        _("Failure reasons"): ([_("Reason"), _("Count")], _reason_rows(report["by_failure_reason"], "failure_reason")),
        _("Days"): ([_("Day"), _("Contacted"), _("Converted"), _("Success rate"), _("Revenue")],
                    [[row["period"], row["contacted"], row["converted"], rate(row["success_rate"]),
                      money(row["revenue"])] for row in report["by_day"]]),
    }
    if report.get("to_date"):
        sheets[_("Channels to date")] = (_header(_("Channel")), _rate_rows(report["to_date"]["by_channel"], "channel"))
    return sheets


def summary_text(report: dict) -> str:
    """The e-mail body: the week in numbers and what to stop, keep or grow."""
    summary = report["summary"]
    lines = [_("LoopCRM weekly operations review %(week)s (%(start)s – %(end)s)") % report, "",
             _("Contacted %(contacted)s, converted %(converted)s, success rate %(rate)s, revenue %(revenue)s, "
               "cost %(cost)s, ROI %(roi)s.") % {
                 "contacted": summary["contacted"], "converted": summary["converted"],
                 "rate": _percent(summary["success_rate"]), "revenue": summary["revenue"], "cost": summary["cost"],
                 "roi": _percent(summary["roi"])}, ""]
    for row in report["campaigns"]:
        total = row.get("to_date") or {}
        lines.append(f"- {str(row.get('action_label', row['action'])).upper()}: {row['name']} — " + _(
            "%(contacted)s contacted, %(converted)s converted (%(rate)s), ROI %(roi)s to date") % {
            "contacted": total.get("contacted", 0), "converted": total.get("converted", 0),
            "rate": _percent(total.get("success_rate")), "roi": _percent(total.get("roi"))})
    lines += ["", _("Rules:")] + [f"  {rule}" for rule in report["rules"]]
    if report.get("templates"):
        lines += ["", _("Recurring campaigns (last week's waves):")]
        for row in report["templates"]:
            week = row["week"]
            lines.append(f"- {str(row['proposal_label']).upper()}: {row['name']} ({row['weekday']} {row['window']}) — " + _(
                "%(waves)s waves, %(contacted)s contacted, %(converted)s converted (%(rate)s), ROI %(roi)s") % {
                "waves": week.get("waves", 0), "contacted": week.get("contacted", 0),
                "converted": week.get("converted", 0), "rate": _percent(week.get("success_rate")),
                "roi": _percent(week.get("roi"))} + f" · {row['reason']}")
    return "\n".join(lines)


def _percent(value) -> str:
    return "—" if value is None else f"{float(value) * 100:.2f} %"


BREAKDOWNS = {
    "channels": lambda data, campaigns: (_header(_("Channel")) + [_("Strategy")], [
        row + [str(source["strategy"])] for row, source in zip(_rate_rows(data["by_channel"], "channel"),
                                                               data["by_channel"], strict=True)]),
    "managers": lambda data, campaigns: (_header(_("Account manager")),
                                         _rate_rows(data["by_account_manager"], "account_manager")),
    "branches": lambda data, campaigns: (_header(_("Branch")), _rate_rows(data["by_branch"], "branch")),
    "reasons": lambda data, campaigns: ([_("Reason"), _("Count")],
                                        _reason_rows(data["by_failure_reason"], "failure_reason")),
    "trend": lambda data, campaigns: ([_("Period"), _("Contacted"), _("Converted"), _("Success rate"), _("Revenue"),
                                       _("Cost"), _("ROI")],
                                      [[row["period"], row["contacted"], row["converted"], rate(row["success_rate"]),
                                        money(row["revenue"]), money(row["cost"]), rate(row["roi"], ROI_FORMAT)]
                                       for row in data["trend"]]),
    "segments": lambda data, campaigns: (_header(_("Segment")), _rate_rows(data["by_segment"], "segment")),
    "funnel": lambda data, campaigns: ([_("Stage"), _("Count")], [[str(row["stage"]), row["count"]]
                                                                   for row in data["funnel"]]),
    "campaigns": lambda data, campaigns: _campaign_rows(campaigns),
}
