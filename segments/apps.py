from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = _("Segments")

    def ready(self):
        from accounts import navigation
        from core import export_jobs
        from customers import listing, tag_references

        from . import exports
        from .listing import AudienceListIndex
        from .tag_references import rename_in_segments, segments_naming

        navigation.register("segments:list", _("Segments"), roles=navigation.MANAGERS, order=40)
        tag_references.register(segments_naming, rename_in_segments)
        listing.register_id_index(AudienceListIndex())
        export_jobs.register_export(exports.EXPORT_NAME, exports.segment_rows)
