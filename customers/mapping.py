"""Import column mappings: what each column of a customer file becomes.

A mapping is `{"columns": {column: target}, "row_id_prefix": "bank-"}` (a flat
`{column: target}` is read as the columns). Targets: a customer field; `age` (sets the
birth date); `tag` (value v of column c becomes tag `c-v`); `flag` (a yes/true/1 value
becomes tag `c`); `tags` (slugs separated by `|`); `extra`; `ignore`. With no mapping,
DESIGN.md's rule applies: a header naming a field maps to it, `tags` to tags, the rest to extra.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

FIELD_TARGETS = (
    "external_id", "name", "phone", "email", "gender", "birth_date", "branch", "owner",
    "assets", "risk_level", "lifecycle_stage",
)
SPECIAL_TARGETS = ("age", "tag", "flag", "tags", "extra", "ignore")
TARGETS = FIELD_TARGETS + SPECIAL_TARGETS

# The bank-marketing file (DESIGN.md): ids from row numbers, balance → assets, categorical
# columns → tags; the remaining columns are kept as extra attributes.
BANK_MARKETING = {
    "row_id_prefix": "bank-",
    "columns": {
        "age": "age", "balance": "assets",
        **{column: "tag" for column in
           ("job", "marital", "education", "default", "housing", "loan", "contact", "poutcome")},
        **{column: "extra" for column in ("day", "month", "duration", "campaign", "pdays", "previous", "y")},
    },
}
PRESETS = {"bank-marketing": BANK_MARKETING}


class MappingError(ValueError):
    """The mapping itself is wrong: nothing can be imported with it."""


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    row_id_prefix: str = ""

    def targets(self, target: str) -> list[str]:
        return [column for column, mapped in self.columns.items() if mapped == target]

    def column_for(self, target: str) -> str | None:
        found = self.targets(target)
        return found[0] if found else None


def default_mapping(headers: list[str]) -> Mapping:
    """Headers that name a field map to it, `tags` to tag slugs, any other to extra."""
    columns = {}
    for header in headers:
        key = header.strip().lower()
        if key in FIELD_TARGETS:
            columns[header] = key
        elif key == "tags":
            columns[header] = "tags"
        else:
            columns[header] = "extra"
    return Mapping(columns=columns)


def build_mapping(raw: dict | str | None, headers: list[str]) -> Mapping:
    """Check a user's mapping (or a preset's name) against the file's headers."""
    if raw is None or raw == "" or raw == {}:
        mapping = default_mapping(headers)
    else:
        if isinstance(raw, str):
            if raw not in PRESETS:
                raise MappingError(_("Unknown mapping preset %(name)s.") % {"name": raw})
            raw = PRESETS[raw]
        if not isinstance(raw, dict):
            raise MappingError(_("A mapping must be a JSON object of column → target."))
        columns = raw.get("columns", raw if "row_id_prefix" not in raw else {})
        if not isinstance(columns, dict):
            raise MappingError(_("\"columns\" must be an object of column → target."))
        prefix = raw.get("row_id_prefix", "") or ""
        if not isinstance(prefix, str):
            raise MappingError(_("\"row_id_prefix\" must be text."))
        mapping = Mapping(columns=dict(columns), row_id_prefix=prefix)
        # Columns the mapping does not name are kept as extra attributes, never dropped silently.
        for header in headers:
            mapping.columns.setdefault(header, "extra")
    problems = []
    for column, target in mapping.columns.items():
        if column not in headers:
            problems.append(_("The mapping names column “%(column)s”, which the file does not have.") % {"column": column})
        if target not in TARGETS:
            problems.append(_("Column “%(column)s” maps to unknown target “%(target)s”.") % {"column": column, "target": target})
    for target in FIELD_TARGETS + ("age",):
        if len(mapping.targets(target)) > 1:
            problems.append(_("Only one column may map to %(target)s.") % {"target": target})
    if not mapping.column_for("external_id") and not mapping.row_id_prefix:
        problems.append(_("No column maps to external_id (and no row id prefix is set): rows cannot be matched."))
    if mapping.column_for("age") and mapping.column_for("birth_date"):
        problems.append(_("Map either age or birth_date, not both."))
    if problems:
        raise MappingError(" ".join(problems))
    return mapping
