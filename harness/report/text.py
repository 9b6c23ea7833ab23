"""Text hygiene for every rendered output: session tokens shortened, safe JSON in HTML, Markdown and XML escaping."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, unquote

# Where a session token shows: a header line (`x-amz-security-token: V`, also inside canonical requests and
# diffs), a query parameter (`X-Amz-Security-Token=V`), or a [name, value] header pair.
_HEADER_LINE = re.compile(r"(?im)(x-amz-security-token[ \t]*:[ \t]*)([^\r\n]+?)([ \t]*)$")
_QUERY_PARAM = re.compile(r"(?i)(x-amz-security-token=)([^&\s#\"'<>]+)")
TOKEN_HEADER = "x-amz-security-token"
_MIN_GLOBAL = 8  # shorter values are shortened only where they are seen as a token, not everywhere


def _names_token(text: str) -> bool:
    return "oken" in text or "OKEN" in text


def short_token(value: str) -> str:
    """First 8 characters (never more than half), an ellipsis and the length: 'AQoDYXdz…[356 chars]'."""
    keep = min(8, len(value) // 2)
    return f"{value[:keep]}…[{len(value)} chars]"


class TokenShortener:
    """Finds every session token in a results structure and shortens it wherever it appears.

    Tokens are found where they are named (header lines, query parameters, header pairs); each value found
    (and its percent-encoded / decoded forms) is then replaced in every string, so a token repeated in a
    reason or a diff line is shortened too.
    """

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    # -- discovery
    def collect(self, obj: Any) -> None:
        if isinstance(obj, str):
            if _names_token(obj):
                for m in _HEADER_LINE.finditer(obj):
                    self._add(m.group(2))
                for m in _QUERY_PARAM.finditer(obj):
                    self._add(m.group(2))
        elif isinstance(obj, dict):
            for value in obj.values():
                self.collect(value)
        elif isinstance(obj, (list, tuple)):
            if len(obj) == 2 and isinstance(obj[0], str) and obj[0].strip().lower() == TOKEN_HEADER and isinstance(obj[1], str):
                self._add(obj[1])
            for value in obj:
                self.collect(value)

    def _add(self, value: str) -> None:
        value = value.strip()
        if not value or "…[" in value:
            return
        self.values.add(value)
        for form in (unquote(value), quote(value, safe=""), quote(unquote(value), safe="")):
            if form:
                self.values.add(form)
        self._pattern = None

    # -- rewriting
    def _long_values(self) -> list[str]:
        """The values replaced wherever they appear, longest first (at one place, the longest wins)."""
        return sorted((v for v in self.values if len(v) >= _MIN_GLOBAL), key=len, reverse=True)

    def _global(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            long_values = self._long_values()
            self._pattern = re.compile("|".join(re.escape(v) for v in long_values)) if long_values else None
        return self._pattern

    def text(self, value: str) -> str:
        if len(value) < _MIN_GLOBAL:
            return value  # too short to hold a header line, a parameter or a value replaced everywhere
        if _names_token(value):
            value = self._named(value)
        pattern = self._global()
        if pattern is None:
            return value
        if "…[" not in value:
            return pattern.sub(lambda m: short_token(m.group(0)), value)
        # keep already shortened pieces, shorten the rest
        parts = re.split(r"([^\s&=:]*…\[\d+ chars\])", value)
        return "".join(p if i % 2 else pattern.sub(lambda m: short_token(m.group(0)), p) for i, p in enumerate(parts))

    @staticmethod
    def _named(value: str) -> str:
        value = _HEADER_LINE.sub(lambda m: m.group(1) + (m.group(2) if "…[" in m.group(2) else short_token(m.group(2))) + m.group(3), value)
        return _QUERY_PARAM.sub(lambda m: m.group(1) + (m.group(2) if "…[" in m.group(2) else short_token(m.group(2))), value)

    def apply(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {k: self.apply(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            if len(obj) == 2 and isinstance(obj[0], str) and obj[0].strip().lower() == TOKEN_HEADER and isinstance(obj[1], str):
                return [obj[0], obj[1] if "…[" in obj[1] else short_token(obj[1].strip())]
            return [self.apply(v) for v in obj]
        return obj


# The same three places, in the JSON text of a structure (inside JSON strings a line ends at an escape).
_JSON_HEADER_LINE = re.compile(r'(?i)(x-amz-security-token[ \t]*:[ \t]*)([^"\\\r\n]+?)([ \t]*)(?=\\[rn]|")')
_JSON_QUERY_PARAM = re.compile(r"(?i)(x-amz-security-token=)([^&\s#\"'<>\\]+)")
_JSON_HEADER_PAIR = re.compile(r'(?i)("\s*x-amz-security-token\s*"\s*,\s*")((?:[^"\\]|\\.)*)(")')


_JSON_NAMED = (_JSON_HEADER_PAIR, _JSON_HEADER_LINE, _JSON_QUERY_PARAM)  # the order they are replaced in
# The same patterns without (?i), run over the lower-cased text: a literal prefix is found at C speed, where
# (?i) tries a match at every position (0.7 s for each pattern over a full run's 36 MB). Only the name is
# written in letters, so lower-casing the text changes no other part of a match.
_JSON_NAMED_LOWER = tuple(re.compile(p.pattern.replace("(?i)", "", 1)) for p in _JSON_NAMED)


def shorten_tokens(data: Any) -> Any:
    """A copy of `data` with every session token shortened (see TokenShortener).

    Done on the structure's JSON text (C-speed serialization, searches over one string, one parse back),
    not by walking ~100,000 rows of nested objects in Python."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if not _names_token(text):
        return json.loads(text)
    return json.loads(shorten_tokens_in_json(text))


def shorten_tokens_in_json(text: str) -> str:
    """The JSON text with every session token shortened: where a token is named (header pairs, header lines,
    query parameters), then each value found, in each of its forms, wherever else it appears."""
    found = _named_matches(text)
    if found is None:
        return _shorten_named_one_pattern_at_a_time(text)
    shortener = TokenShortener()
    for _, _, _, value, _ in found:
        shortener._add(_json_string(value))
    pieces, position = [], 0
    for start, end, before, value, after in found:
        pieces.append(text[position:start])
        pieces.append(_named_replacement(text[start:end], before, value, after))
        position = end
    pieces.append(text[position:])
    return _shorten_everywhere("".join(pieces), shortener)


def _named_matches(text: str) -> list[tuple[int, int, str, str, str]] | None:
    """(start, end, text before the value, the value, text after it) of every named token, in order; None when
    the quick search cannot stand for the one pattern at a time (lower-casing changed the text's length, or two
    matches overlap)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: positions would not line up
        return None
    found = []
    for pattern in _JSON_NAMED_LOWER:
        for m in pattern.finditer(lowered):
            last = m.lastindex or 0
            found.append((m.start(), m.end(), text[m.start(1):m.end(1)], text[m.start(2):m.end(2)],
                          text[m.start(3):m.end(3)] if last == 3 else ""))
    found.sort()
    if any(a[1] > b[0] for a, b in zip(found, found[1:])):
        return None
    return found


def _shorten_named_one_pattern_at_a_time(text: str) -> str:
    """`shorten_tokens_in_json` as the patterns read it literally (the quick search stands for this)."""
    shortener = TokenShortener()
    for pattern in (_JSON_HEADER_LINE, _JSON_QUERY_PARAM, _JSON_HEADER_PAIR):
        for m in pattern.finditer(text):
            shortener._add(_json_string(m.group(2)))

    def short(m: re.Match[str]) -> str:
        return _named_replacement(m.group(0), m.group(1), m.group(2), m.group(3) if m.lastindex == 3 else "")

    for pattern in _JSON_NAMED:
        text = pattern.sub(short, text)
    everywhere = shortener._global()
    if everywhere is not None:
        text = everywhere.sub(lambda m: short_token(m.group(0)), text)
    return text


def _json_string(value: str) -> str:
    """A token as it appears inside a JSON string, as its text (escapes read)."""
    return json.loads(f'"{value}"') if "\\" in value else value


def _named_replacement(whole: str, before: str, value: str, after: str) -> str:
    """What a named token's match (`whole`: `before`, the value, `after`) becomes: the value shortened, or the
    match as it is when the value is shortened already."""
    return whole if "…[" in value else before + short_token(value.strip()) + after


def _shorten_everywhere(text: str, shortener: "TokenShortener") -> str:
    """Every long value found (`TokenShortener._global`'s alternation: at each place the longest value that
    starts there, then on after it), with `str.find` instead of the alternation, which is slow over 36 MB."""
    hits = []
    for value in shortener._long_values():
        at = text.find(value)
        while at != -1:
            hits.append((at, -len(value), value))
            at = text.find(value, at + 1)
    if not hits:
        return text
    hits.sort()
    pieces, position = [], 0
    for at, _, value in hits:
        if at < position:
            continue
        pieces.append(text[position:at])
        pieces.append(short_token(value))
        position = at + len(value)
    pieces.append(text[position:])
    return "".join(pieces)


SHORTENED = "shortened"  # manifest.session_tokens of a results document whose tokens are shortened already


def tokens_shortened(data: Any) -> bool:
    """Whether the document says its session tokens are shortened (every run writes them so; a merge of
    such runs keeps saying it)."""
    return isinstance(data, dict) and (data.get("manifest") or {}).get("session_tokens") == SHORTENED


def with_short_tokens(data: Any) -> Any:
    """`data` with every session token shortened, saying so in `manifest.session_tokens`; as it is when it
    says so already (the pass costs a JSON round trip of the whole document: a merge of eight runs would
    spend most of its time here)."""
    if tokens_shortened(data):
        return data
    clean = shorten_tokens(data)
    if isinstance(clean, dict) and isinstance(clean.get("manifest"), dict):
        clean["manifest"]["session_tokens"] = SHORTENED
    return clean


def json_for_html(value: Any) -> str:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' (so no '</script>'), no U+2028/9."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


_CONTROL = re.compile("[\x00-\x1f\x7f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|#])")


def md_cell(value: Any) -> str:
    """One Markdown table cell: one line, no HTML (< > & as entities), pipes and emphasis characters escaped."""
    text = " ".join(str(value if value is not None else "").split())
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """Text XML 1.0 can hold: characters it forbids are written as \\xNN."""
    return _XML_BAD.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(value if value is not None else ""))
