"""Number formats for 简体中文: Django's leave out the thousands separator; our users read assets and
counts grouped by three with commas, as banks print them (1,234,567.89), in both languages."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403 - every other format as Django has it

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
