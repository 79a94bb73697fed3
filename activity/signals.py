"""What activity tells the apps above it, without importing them.

`events_stored` is sent inside the ingest's transaction, after new events are inserted (file import
and batch API alike), with `created_at` (the value every row of this ingest carries) and `rows` (a
DataFrame of the stored rows' external_id, customer_id, type, occurred_at, properties). A receiver
that writes joins the ingest: both commit or neither does.
"""

from django.dispatch import Signal

events_stored = Signal()
