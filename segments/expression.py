"""The segment expression (DESIGN.md contract): a JSON tree and the text form marketers type.

    {"tag": "vip"}  {"all": [...]}  {"any": [...]}  {"not": node}
    {"field": "assets", "op": "gte", "value": 1000000}

    vip AND (wechat OR app_user) AND NOT recharged AND assets >= 1000000 AND branch IN (SZ01, SH02)

`parse()` reads text, `from_json()` checks a tree, `to_text()` prints one; all three produce or accept
the same normalised tree (nested AND in AND flattened, one-child groups unwrapped), so
parse(to_text(tree)) == tree. Every problem raises ExpressionError with a position (text) or a
path (JSON) and a message a marketer can act on. Names are checked against the database later
(segments.compiler), so this module needs no database.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .fields import FIELDS, OPS, PRODUCT_TYPES, ValueProblem

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL"}
COMPARATORS = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
SYMBOLS = {value: key for key, value in COMPARATORS.items() if key not in ("==", "<>")}
MAX_NODES = 500
MAX_DEPTH = 32
MAX_IN_VALUES = 1000  # a longer list is an upload in disguise: save it as a tag (an import) instead


@dataclass
class ExpressionError(ValueError):
    """A readable problem with an expression, and where it is."""

    message: str
    position: int | None = None  # character offset in the text form
    path: str | None = None  # location in the JSON tree, e.g. "all[2].value"
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        if self.position is not None:
            return _("%(message)s (at character %(position)d)") % {"message": self.message, "position": self.position + 1}
        if self.path:
            return f"{self.message} ({self.path})"
        return self.message

    def as_dict(self) -> dict:
        return {"detail": str(self), "message": self.message, "position": self.position, "path": self.path}


# --- JSON ----------------------------------------------------------------------------------------

def from_json(data) -> dict:
    """Check a JSON tree and return it normalised; ExpressionError (with a path) otherwise."""
    counter = [0]
    return _node(data, "", 0, counter)


def _node(data, path: str, depth: int, counter: list[int]) -> dict:
    here = path or _("the expression")
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise ExpressionError(_("The expression is too large (more than %(n)d parts).") % {"n": MAX_NODES}, path=path)
    if depth > MAX_DEPTH:
        raise ExpressionError(_("The expression is nested too deeply."), path=path)
    if not isinstance(data, dict):
        raise ExpressionError(_("Expected an object such as {\"tag\": \"vip\"}."), path=here)
    keys = set(data)
    if keys == {"tag"}:
        slug = data["tag"]
        if not isinstance(slug, str) or not SLUG.match(slug) or slug.upper() in KEYWORDS:
            raise ExpressionError(_("“%(tag)s” is not a tag slug (lower-case letters, digits, - and _).") % {"tag": slug},
                                  path=_join(path, "tag"))
        return {"tag": slug}
    if keys in ({"all"}, {"any"}):
        kind = keys.pop()
        children = data[kind]
        if not isinstance(children, list) or not children:
            raise ExpressionError(_("“%(kind)s” needs a non-empty list.") % {"kind": kind}, path=_join(path, kind))
        nodes = [_node(child, f"{_join(path, kind)}[{index}]", depth + 1, counter) for index, child in enumerate(children)]
        return _group(kind, nodes)
    if keys == {"not"}:
        return _negate(_node(data["not"], _join(path, "not"), depth + 1, counter))
    if "activity" in keys:
        return _activity(data, path)
    if "field" in keys:
        if not keys <= {"field", "op", "value"} or "op" not in keys:
            raise ExpressionError(_("A comparison has exactly “field”, “op” and “value”."), path=here)
        return _comparison(data["field"], data["op"], data.get("value"), path=path)
    raise ExpressionError(_("Unknown node with keys %(keys)s; use tag, all, any, not, field or activity.")
                          % {"keys": ", ".join(sorted(map(str, keys))) or "∅"}, path=here)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _group(kind: str, nodes: list[dict]) -> dict:
    flat = []
    for node in nodes:
        flat.extend(node[kind] if kind in node else [node])
    return flat[0] if len(flat) == 1 else {kind: flat}


def _negate(node: dict) -> dict:
    return node["not"] if "not" in node else {"not": node}


def _comparison(name, op, value, *, path: str = "", position: int | None = None) -> dict:
    def fail(message, where):
        raise ExpressionError(message, position=position, path=_join(path, where) if position is None else None)

    if not isinstance(name, str) or name not in FIELDS:
        fail(_("Unknown field “%(field)s”; fields are: %(fields)s.") % {"field": name, "fields": ", ".join(FIELDS)}, "field")
    spec = FIELDS[name]
    if op not in OPS:
        fail(_("Unknown operator “%(op)s”; operators are: %(ops)s.") % {"op": op, "ops": " ".join(OPS)}, "op")
    if op not in spec.ops:
        fail(_("%(field)s cannot be compared with “%(op)s”.") % {"field": name, "op": op}, "op")
    try:
        if op == "isnull":
            if not isinstance(value, bool):
                fail(_("isnull takes true or false."), "value")
            cleaned = value
        elif op == "in":
            if not isinstance(value, list) or not value:
                fail(_("“in” takes a non-empty list of values."), "value")
            if len(value) > MAX_IN_VALUES:
                fail(_("“in” takes at most %(limit)d values (got %(count)d); tag those customers by an import and "
                       "name the tag instead.") % {"limit": MAX_IN_VALUES, "count": len(value)}, "value")
            cleaned = sorted({_plain(spec.clean(item)) for item in value}, key=lambda item: (str(type(item)), item))
        elif op == "between":
            if not isinstance(value, list) or len(value) != 2:
                fail(_("“between” takes a list of two values: [low, high]."), "value")
            cleaned = [_plain(spec.clean(item)) for item in value]
            if cleaned[0] > cleaned[1]:
                fail(_("“between” needs the low value first."), "value")
        else:
            cleaned = _plain(spec.clean(value))
    except ValueProblem as problem:
        fail(str(problem), "value")
    return {"field": name, "op": op, "value": cleaned}


ACTIVITIES = ("bought", "holds", "did")
ACTIVITY_KEYS = {
    "bought": ({"activity", "product", "days"}, {"activity", "product_type", "days"}),
    "holds": ({"activity", "product"},),
    "did": ({"activity", "event", "days", "op", "value"},),
}
COUNT_OPS = ("eq", "ne", "lt", "lte", "gt", "gte")
MAX_BOUGHT_DAYS = 3650  # ten years: longer is "ever", which bought(CODE) without a window says
MAX_DID_DAYS = 365  # the audience index keeps a year of events
MAX_DID_COUNT = 1_000_000
PRODUCT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
EVENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _activity(data: dict, path: str = "", position: int | None = None) -> dict:
    """A behaviour condition (DESIGN.md "Activity data"), checked and normalised.

    bought(CODE[, Nd]), bought(type = T[, Nd]), holds(CODE), did(EVENT, Nd) [op n] — a did without a
    comparison means at least once (op gte, value 1)."""
    def fail(message, where):
        raise ExpressionError(message, position=position, path=_join(path, where) if position is None else None)

    kind = data.get("activity")
    if kind not in ACTIVITIES:
        fail(_("Unknown activity “%(kind)s”; use bought, holds or did.") % {"kind": kind}, "activity")
    keys = set(data)
    if not any(keys <= allowed for allowed in ACTIVITY_KEYS[kind]):
        fail({"bought": _("bought takes a product (or a product_type) and optionally days."),
              "holds": _("holds takes a product."),
              "did": _("did takes an event, days and optionally op and value.")}[kind], "activity")
    node = {"activity": kind}
    if kind in ("bought", "holds"):
        if "product_type" in data:
            if data["product_type"] not in PRODUCT_TYPES:
                fail(_("Unknown product type “%(type)s”; types are: %(types)s.")
                     % {"type": data["product_type"], "types": ", ".join(PRODUCT_TYPES)}, "product_type")
            node["product_type"] = data["product_type"]
        elif not isinstance(data.get("product"), str) or not PRODUCT_CODE.match(data["product"]):
            fail(_("%(kind)s needs a product code such as FUND-A01.") % {"kind": kind}, "product")
        else:
            node["product"] = data["product"]
    if kind == "did":
        if not isinstance(data.get("event"), str) or not EVENT_TYPE.match(data["event"]):
            fail(_("did needs an event type such as login_failed (lower-case letters, digits, _ . -)."), "event")
        node["event"] = data["event"]
    if "days" in data or kind == "did":
        days, limit = data.get("days"), MAX_DID_DAYS if kind == "did" else MAX_BOUGHT_DAYS
        if kind == "did" and days is None:
            fail(_("did needs a window, e.g. did(login, 7d)."), "days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
            fail(_("The window must be a whole number of days from 1 to %(limit)d (got %(days)s).")
                 % {"limit": limit, "days": days}, "days")
        node["days"] = days
    if kind == "did":
        op, value = data.get("op", "gte"), data.get("value", 1)
        if op not in COUNT_OPS:
            fail(_("did compares its count with one of = != < <= > >=."), "op")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DID_COUNT:
            fail(_("did compares its count with a whole number from 0 to %(n)d.") % {"n": MAX_DID_COUNT}, "value")
        node["op"], node["value"] = op, value
    return node


def _plain(value):
    """JSON-friendly: whole floats become ints, dates ISO text."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- Text ----------------------------------------------------------------------------------------

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<lparen>\() | (?P<rparen>\)) | (?P<comma>,)
  | (?P<cmp>>=|<=|!=|<>|==|=|<|>)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<word>[^\s(),=<>!"']+)
""", re.VERBOSE)


@dataclass
class Token:
    kind: str
    text: str
    position: int

    @property
    def keyword(self) -> str | None:
        upper = self.text.upper()
        return upper if self.kind == "word" and upper in KEYWORDS else None


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            snippet = text[position:position + 10]
            if snippet[:1] in "\"'":
                raise ExpressionError(_("A quoted value is not closed."), position=position)
            raise ExpressionError(_("Unexpected “%(text)s”.") % {"text": snippet[:1]}, position=position)
        kind = match.lastgroup
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nodes = 0
        self.tag_positions: dict[str, int] = {}
        self.product_positions: dict[str, int] = {}
        self.value_positions: list[tuple[dict, int]] = []

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ExpressionError(_("The expression ends too early."), position=len(self.text))
        self.index += 1
        return token

    def expect_keyword(self, word: str) -> Token:
        token = self.take()
        if token.keyword != word:
            raise ExpressionError(_("Expected %(word)s here, found “%(text)s”.") % {"word": word, "text": token.text},
                                  position=token.position)
        return token

    def parse(self) -> dict:
        if not self.tokens:
            raise ExpressionError(_("The expression is empty."), position=0)
        node = self.parse_or(0)
        token = self.peek()
        if token is not None:
            if token.kind == "rparen":
                raise ExpressionError(_("This “)” has no matching “(”."), position=token.position)
            raise ExpressionError(_("Expected AND, OR or the end, found “%(text)s”.") % {"text": token.text},
                                  position=token.position)
        return node

    def parse_or(self, depth: int) -> dict:
        nodes = [self.parse_and(depth)]
        while (token := self.peek()) is not None and token.keyword == "OR":
            self.take()
            nodes.append(self.parse_and(depth))
        return _group("any", nodes)

    def parse_and(self, depth: int) -> dict:
        nodes = [self.parse_unary(depth)]
        while (token := self.peek()) is not None and token.keyword == "AND":
            self.take()
            nodes.append(self.parse_unary(depth))
        return _group("all", nodes)

    def parse_unary(self, depth: int) -> dict:
        self.nodes += 1
        token = self.take()
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise ExpressionError(_("The expression is too large or nested too deeply."), position=token.position)
        if token.keyword == "NOT":
            return _negate(self.parse_unary(depth + 1))
        if token.kind == "lparen":
            node = self.parse_or(depth + 1)
            closing = self.peek()
            if closing is None:
                raise ExpressionError(_("This “(” is never closed."), position=token.position)
            if closing.kind != "rparen":
                raise ExpressionError(_("Expected “)” here, found “%(text)s”.") % {"text": closing.text},
                                      position=closing.position)
            self.take()
            return node
        if token.kind != "word" or token.keyword:
            raise ExpressionError(_("Expected a tag, a comparison, NOT or “(”, found “%(text)s”.") % {"text": token.text},
                                  position=token.position)
        following = self.peek()
        if following is not None and following.kind == "lparen" and token.text in ACTIVITIES:
            return self.parse_activity(token)
        if following is not None and (following.kind == "cmp" or following.keyword in ("IN", "BETWEEN", "IS")):
            return self.parse_comparison(token)
        slug = token.text
        if not SLUG.match(slug):
            raise ExpressionError(_("“%(tag)s” is not a tag slug (lower-case letters, digits, - and _).") % {"tag": slug},
                                  position=token.position)
        self.tag_positions.setdefault(slug, token.position)
        return {"tag": slug}

    def parse_activity(self, name: Token) -> dict:
        """bought(CODE[, 30d]) · bought(type = fund[, 90d]) · holds(CODE) · did(EVENT, 7d) [>= 3]"""
        self.take()  # (
        data: dict = {"activity": name.text}
        first = self.take()
        following = self.peek()
        if first.kind == "word" and first.text == "type" and following is not None and following.text == "=":
            self.take()
            data["product_type"] = self.value(self.take())
        else:
            target = self.value(first)
            data["event" if name.text == "did" else "product"] = target
        closing = self.take()
        if closing.kind == "comma":
            window = self.take()
            match = re.fullmatch(r"(\d+)d", window.text) if window.kind == "word" else None
            if not match:
                raise ExpressionError(_("Expected a window in days such as 30d, found “%(text)s”.")
                                      % {"text": window.text}, position=window.position)
            data["days"] = int(match.group(1))
            closing = self.take()
        if closing.kind != "rparen":
            raise ExpressionError(_("Expected “)” here, found “%(text)s”.") % {"text": closing.text},
                                  position=closing.position)
        if name.text == "did" and (operator := self.peek()) is not None and operator.kind == "cmp":
            self.take()
            count = self.take()
            if count.kind != "word" or not count.text.isdigit():
                raise ExpressionError(_("did compares its count with a whole number from 0 to %(n)d.")
                                      % {"n": MAX_DID_COUNT}, position=count.position)
            data["op"], data["value"] = COMPARATORS[operator.text], int(count.text)
        node = _activity(data, position=name.position)
        if "product" in node:
            self.product_positions.setdefault(node["product"], first.position)
        return node

    def parse_comparison(self, name: Token) -> dict:
        if name.text not in FIELDS:
            raise ExpressionError(_("Unknown field “%(field)s”; fields are: %(fields)s.")
                                  % {"field": name.text, "fields": ", ".join(FIELDS)}, position=name.position)
        operator = self.take()
        spoken = COMPARATORS.get(operator.text) or {"IN": "in", "BETWEEN": "between", "IS": "isnull"}.get(operator.keyword)
        if spoken and spoken not in FIELDS[name.text].ops:
            raise ExpressionError(_("%(field)s cannot be compared with “%(op)s”.") % {"field": name.text, "op": operator.text},
                                  position=operator.position)
        if operator.kind == "cmp":
            op, value_token = COMPARATORS[operator.text], self.take()
            value = self.value(value_token)
            position = value_token.position
        elif operator.keyword == "IN":
            opening = self.take()
            if opening.kind != "lparen":
                raise ExpressionError(_("IN needs a list in parentheses, e.g. branch IN (SZ01, SH02)."),
                                      position=opening.position)
            value, position = [], opening.position
            while True:
                value.append(self.value(self.take()))
                separator = self.take()
                if separator.kind == "rparen":
                    break
                if separator.kind != "comma":
                    raise ExpressionError(_("Expected “,” or “)” in the IN list."), position=separator.position)
            op = "in"
        elif operator.keyword == "BETWEEN":
            low_token = self.take()
            low = self.value(low_token)
            self.expect_keyword("AND")
            value, op, position = [low, self.value(self.take())], "between", low_token.position
        else:  # IS [NOT] NULL
            negated = self.peek() is not None and self.peek().keyword == "NOT"
            if negated:
                self.take()
            self.expect_keyword("NULL")
            op, value, position = "isnull", not negated, operator.position
        try:
            return _comparison(name.text, op, value, position=position)
        except ExpressionError as error:
            error.position = position if error.position is None else error.position
            raise

    def value(self, token: Token):
        if token.kind == "string":
            body = token.text[1:-1]
            return re.sub(r"\\(.)", r"\1", body)
        if token.kind != "word" or token.keyword:
            raise ExpressionError(_("Expected a value, found “%(text)s”.") % {"text": token.text}, position=token.position)
        return token.text


def parse(text: str) -> dict:
    """Parse the text form into a normalised tree; ExpressionError with a position otherwise."""
    if not isinstance(text, str):
        raise ExpressionError(_("The expression text must be a string."), position=0)
    return _Parser(text).parse()


def parse_with_positions(text: str) -> tuple[dict, dict[str, int]]:
    """Parse, and also return where each tag slug first appears (to point at unknown tags)."""
    parser = _Parser(text)
    tree = parser.parse()
    # Product codes are keyed "product:CODE" (a tag slug never holds a colon).
    return tree, {**parser.tag_positions, **{f"product:{code}": at for code, at in parser.product_positions.items()}}


# --- Printing ------------------------------------------------------------------------------------

BARE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$")


def to_text(node: dict) -> str:
    """Print a normalised tree in the text form, with only the parentheses it needs."""
    return _print(node, "any")


def _print(node: dict, context: str) -> str:
    if "tag" in node:
        return node["tag"]
    if "not" in node:
        inner = node["not"]
        text = _print(inner, "not")
        return f"NOT {text}"
    if "all" in node:
        text = " AND ".join(_print(child, "all") for child in node["all"])
        return f"({text})" if context == "not" else text
    if "any" in node:
        text = " OR ".join(_print(child, "any") for child in node["any"])
        return f"({text})" if context in ("all", "not") else text
    if "activity" in node:
        return _print_activity(node, context)
    name, op, value = node["field"], node["op"], node["value"]
    if op == "isnull":
        text = f"{name} IS NULL" if value else f"{name} IS NOT NULL"
    elif op == "in":
        text = f"{name} IN ({', '.join(_value(item) for item in value)})"
    elif op == "between":
        text = f"{name} BETWEEN {_value(value[0])} AND {_value(value[1])}"
    else:
        text = f"{name} {SYMBOLS[op]} {_value(value)}"
    # A comparison under NOT keeps its parentheses so BETWEEN … AND … cannot be misread.
    return f"({text})" if context == "not" else text


def _print_activity(node: dict, context: str) -> str:
    kind = node["activity"]
    if kind == "did":
        inside = f"{_value(node['event'])}, {node['days']}d"
    else:
        inside = f"type = {node['product_type']}" if "product_type" in node else _value(node["product"])
        if "days" in node:
            inside += f", {node['days']}d"
    text = f"{kind}({inside})"
    if kind == "did":
        text += f" {SYMBOLS[node['op']]} {node['value']}"
        return f"({text})" if context == "not" else text
    return text


def _value(value) -> str:
    text = str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text  # negative numbers too: `asset_change_30d <= -0.3` reads back as a number
    if BARE.match(text) and text.upper() not in KEYWORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tags_in(node: dict) -> set[str]:
    """Every tag slug the tree names."""
    if "tag" in node:
        return {node["tag"]}
    if "not" in node:
        return tags_in(node["not"])
    if "all" in node or "any" in node:
        return set().union(*(tags_in(child) for child in node.get("all") or node.get("any")))
    return set()


def rename_tags(node: dict, renames: dict[str, str]) -> dict:
    """The tree with tag slugs renamed (old → new), normalised again (a merge can make two equal)."""
    def walk(item: dict) -> dict:
        if "tag" in item:
            return {"tag": renames.get(item["tag"], item["tag"])}
        if "not" in item:
            return {"not": walk(item["not"])}
        if "all" in item or "any" in item:
            kind = "all" if "all" in item else "any"
            children, seen = [], []
            for child in map(walk, item[kind]):
                if child not in seen:  # `a AND b` with b merged into a is `a`
                    seen.append(child)
                    children.append(child)
            return {kind: children}
        return item
    return from_json(walk(node))


def fields_in(node: dict) -> list[dict]:
    """Every comparison in the tree."""
    if "field" in node:
        return [node]
    if "not" in node:
        return fields_in(node["not"])
    if "all" in node or "any" in node:
        return [item for child in node.get("all") or node.get("any") for item in fields_in(child)]
    return []


def activities_in(node: dict) -> list[dict]:
    """Every behaviour condition in the tree."""
    if "activity" in node:
        return [node]
    if "not" in node:
        return activities_in(node["not"])
    if "all" in node or "any" in node:
        return [item for child in node.get("all") or node.get("any") for item in activities_in(child)]
    return []
