"""The figures' shapes on the API: one output serializer per response, so that the schema says
exactly what is sent (money as decimal strings, rates as fractions or null)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MONEY = {"max_digits": 20, "decimal_places": 2, "coerce_to_string": True}


def _rate(**kwargs):
    return serializers.FloatField(allow_null=True, **kwargs)


class CountsSerializer(serializers.Serializer):
    """Figures per launched customer (see docs/metrics.md); `tasks` = launched customers."""

    contacted = serializers.IntegerField()
    attempts = serializers.IntegerField()
    reached = serializers.IntegerField()
    interested = serializers.IntegerField()
    converted = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    success_rate = _rate()
    revenue_per_contact = serializers.DecimalField(allow_null=True, **MONEY)


class CustomerCountsSerializer(CountsSerializer):
    customers = serializers.IntegerField()
    tasks = serializers.IntegerField()
    open = serializers.IntegerField()
    done = serializers.IntegerField()
    done_rate = _rate()
    contact_rate = _rate()


class ChannelRowSerializer(CustomerCountsSerializer):
    channel = serializers.CharField(allow_blank=True)


class ManagerRowSerializer(CustomerCountsSerializer):
    account_manager = serializers.CharField(allow_blank=True)


class BranchRowSerializer(CustomerCountsSerializer):
    branch = serializers.CharField(allow_blank=True)


class SegmentRowSerializer(CustomerCountsSerializer):
    segment = serializers.CharField(allow_blank=True)


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()


class DaySerializer(serializers.Serializer):
    day = serializers.DateField()
    outcomes = serializers.IntegerField(help_text="Outcomes logged that day (attempts).")
    converted = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)


class GroupRateSerializer(serializers.Serializer):
    customers = serializers.IntegerField()
    converted = serializers.IntegerField()
    rate = _rate()


class ControlRateSerializer(GroupRateSerializer):
    known = serializers.IntegerField(help_text="Holdout customers whose outcome is known (imported or logged).")


class AttributedArmSerializer(serializers.Serializer):
    customers = serializers.IntegerField()
    converted = serializers.IntegerField(help_text=_("Customers who bought a promoted product within the window."))
    revenue = serializers.DecimalField(**MONEY)
    rate = _rate()


class AttributedSerializer(serializers.Serializer):
    treatment = AttributedArmSerializer()
    control = AttributedArmSerializer()
    products = serializers.ListField(child=serializers.CharField())
    window_days = serializers.IntegerField()
    window_ends = serializers.DateTimeField()
    window_open = serializers.BooleanField(help_text=_("Purchases may still be attributed."))
    converted_any = serializers.IntegerField(
        help_text=_("Treated customers converted by a purchase, a logged outcome or both (each counted once)."))
    logged_only = serializers.IntegerField(help_text=_("Treated customers with a logged conversion but no purchase."))


class UpliftSerializer(serializers.Serializer):
    value = _rate(help_text="Treatment minus holdout conversion; null without enough data.")
    ci_low = _rate()
    ci_high = _rate()
    significant = serializers.BooleanField()
    method = serializers.CharField()
    enough_data = serializers.BooleanField()
    minimum = serializers.IntegerField(help_text="Customers needed in each group.")
    source = serializers.ChoiceField(choices=["transactions", "logged"], help_text=_(
        "transactions: both groups measured by purchases of the promoted products; logged: by outcomes."))
    treatment = GroupRateSerializer()
    control = ControlRateSerializer()


class CampaignStatsSerializer(CustomerCountsSerializer):
    campaign = serializers.IntegerField()
    status = serializers.CharField()
    audience = serializers.IntegerField()
    excluded = serializers.DictField(child=serializers.IntegerField())
    holdout = serializers.IntegerField()
    holdout_known = serializers.IntegerField()
    cost = serializers.DecimalField(**MONEY)
    roi = _rate()
    hours_to_outcome = serializers.FloatField(allow_null=True)
    attributed = AttributedSerializer(allow_null=True, help_text=_("Null when the campaign promotes no product."))
    uplift = UpliftSerializer()
    by_channel = ChannelRowSerializer(many=True)
    by_account_manager = ManagerRowSerializer(many=True)
    by_branch = BranchRowSerializer(many=True)
    by_failure_reason = ReasonCountSerializer(many=True)
    by_day = DaySerializer(many=True)


# --- the weekly review -----------------------------------------------------------------------------

class PeriodSummarySerializer(CountsSerializer):
    launched = serializers.IntegerField(help_text="Customers launched in the week.")
    cost = serializers.DecimalField(**MONEY)
    fixed_cost = serializers.DecimalField(**MONEY)
    roi = _rate()


class ToDateSummarySerializer(CustomerCountsSerializer):
    cost = serializers.DecimalField(**MONEY)
    fixed_cost = serializers.DecimalField(**MONEY)
    roi = _rate()


class StrategyChannelRowSerializer(ChannelRowSerializer):
    strategy = serializers.CharField()


class StageSerializer(serializers.Serializer):
    stage = serializers.CharField()
    count = serializers.IntegerField()


class FailureReasonCountSerializer(serializers.Serializer):
    failure_reason = serializers.CharField(allow_blank=True, help_text=_("The reason's code (blank: none given)."))
    label = serializers.CharField(help_text=_("The reason as people read it, in the request's language."))
    count = serializers.IntegerField()


class TrendRowSerializer(serializers.Serializer):
    period = serializers.CharField()
    contacted = serializers.IntegerField()
    converted = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    cost = serializers.DecimalField(**MONEY)
    success_rate = _rate()
    roi = _rate()


class WeekActivitySerializer(CountsSerializer):
    """A campaign's contacts in the week reviewed."""


class ToDateSerializer(serializers.Serializer):
    summary = ToDateSummarySerializer()
    by_channel = StrategyChannelRowSerializer(many=True)


class ReviewedCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    channel = serializers.CharField()
    owner = serializers.CharField()
    period = WeekActivitySerializer(allow_null=True)
    to_date = CampaignStatsSerializer(help_text="As of the end of the week reviewed.")
    action = serializers.ChoiceField(choices=["stop", "keep", "grow"])
    action_label = serializers.CharField()
    reason = serializers.CharField()


class WeeklyReportSerializer(serializers.Serializer):
    week = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    as_of = serializers.DateTimeField(help_text="The end of the week: every to-date figure stands as of then.")
    generated_at = serializers.DateTimeField()
    summary = PeriodSummarySerializer()
    funnel = StageSerializer(many=True)
    by_channel = StrategyChannelRowSerializer(many=True)
    by_account_manager = ManagerRowSerializer(many=True)
    by_branch = BranchRowSerializer(many=True)
    by_segment = SegmentRowSerializer(many=True)
    by_failure_reason = FailureReasonCountSerializer(many=True)
    by_day = TrendRowSerializer(many=True)
    to_date = ToDateSerializer(allow_null=True)
    campaigns = ReviewedCampaignSerializer(many=True)
    rules = serializers.ListField(child=serializers.CharField())
