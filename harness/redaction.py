"""The one redaction layer: every text that leaves the harness (results, journal, run.json, logs,
console lines, reports, merged results, diff and bench output) goes through a `Redactor` built once
per run from every case's secret key (docs/limits.md, "Redaction").

A secret is found in every form an output can hold it in, character by character, so mixed forms
match too: raw; percent-encoded (`%2F` and `%2f`, `%252F` once more encoded, a space as `+` or
`%20`, a `+` decoded to a space); JSON-escaped (`\\u002f`, `\\/`); HTML/XML-escaped (`&#47;`,
`&#x2F;`, `&sol;`, `&amp;`); `\\xNN`; and its base64 (standard or URL-safe, padded or not, and the
three alignments it has inside base64 of a longer text).

Secrets of 8 characters or more are replaced wherever they occur. A shorter secret (an example
key of 1 to 7 characters) is replaced where it stands as a whole token: not preceded or followed
by a letter, a digit, `_` or `-`. So `k3y` is hidden in `failed with key k3y.` and in `key=k3y&`, but
`k3yboard` and the `x` of `x-amz-date` (for the secret `x`) are left alone: a word that merely
contains the characters of a short secret does not reveal it. A short secret that is also a whole
word of the output (the secret `GET` and a request line) hides that word too.

`Sink` is the writer wrapper: files and console lines are written through it and nowhere else.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TextIO
from urllib.parse import quote, quote_plus

MARK = "<secret redacted>"
ANYWHERE = 8  # secrets at least this long are replaced wherever they occur; shorter ones as whole tokens
CHAR_BY_CHAR = 256  # longer secrets are found in their whole forms only (a pattern per character would not scale)
_NAMED = {"&": ("amp",), "<": ("lt",), ">": ("gt",), '"': ("quot",), "'": ("apos",), "+": ("plus",), "/": ("sol",),
          "=": ("equals",), " ": ("nbsp",)}
_JSON_SHORT = {'"': '"', "\\": "\\", "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}


def _hex(n: int, width: int) -> str:
    """Regex for the hex digits of n in either case."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{n:0{width}x}")


def _char_forms(ch: str) -> list[str]:
    """Regexes for every form one character of a secret can take in an output."""
    n = ord(ch)
    forms = [re.escape(ch)]
    utf8 = ch.encode("utf-8", "surrogatepass")
    forms.append("".join("%(?:25)?" + _hex(b, 2) for b in utf8))  # %2F, %2f, %252F
    if ch == " ":
        forms.append(r"\+")
    if ch == "+":
        forms += [" ", "%20"]  # a form decoder turned it into a space
    units = [n] if n < 0x10000 else [0xD800 + ((n - 0x10000) >> 10), 0xDC00 + ((n - 0x10000) & 0x3FF)]
    forms.append("".join(r"\\{1,3}u" + _hex(u, 4) for u in units))
    if ch in _JSON_SHORT:
        forms.append(r"\\{1,3}" + re.escape(_JSON_SHORT[ch]))
    if n < 0x100:
        forms.append(r"\\x" + _hex(n, 2))
    if len(utf8) > 1:
        forms.append("".join(r"\\x" + _hex(b, 2) for b in utf8))  # repr() of the bytes
    if ch == "'":
        forms.append(r"\\'")
    forms.append(f"&(?:amp;)?#0*{n};")
    forms.append(f"&(?:amp;)?#[xX]0*{_hex(n, 1).lstrip('0') or '0'};")
    for name in _NAMED.get(ch, ()):
        forms.append(f"&(?:amp;)?{name};")
    return forms


def _base64_forms(secret: str) -> list[str]:
    """The secret's own base64, and the part of it that is stable inside the base64 of a longer text."""
    raw = secret.encode("utf-8", "surrogatepass")
    whole = base64.b64encode(raw).decode()
    out = [whole, whole.rstrip("=")]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # the characters fully determined by the secret's bits, whatever surrounds it
        core = encoded[(shift * 8 + 5) // 6:((shift + len(raw)) * 8) // 6]
        if len(core) >= ANYWHERE:
            out.append(core)
    out += [o.replace("+", "-").replace("/", "_") for o in out]
    return sorted({o for o in out if o}, key=len, reverse=True)


TRIE_DEPTH = 16  # secrets share a prefix tree this deep; past it each one is its own flat run (no deep nesting)


def _trie(words: Iterable[str], form: Callable[[str], str]) -> str:
    """One regex for many words: a prefix tree (so the engine tries each first character once, not once per
    word), each character written as `form(ch)`; a longer word is tried before a shorter one it extends."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word[:TRIE_DEPTH]:
            node = node.setdefault(ch, {})
        node.setdefault("", []).append(word[TRIE_DEPTH:])

    def emit(node: dict[str, Any], depth: int) -> str:
        alts = [form(ch) + emit(child, depth + 1) for ch, child in sorted((k, v) for k, v in node.items() if k)]
        for tail in sorted(set(node.get("", ())), key=len, reverse=True):
            alts.append("".join(form(ch) for ch in tail))
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root, 0)


def _literal_forms(secrets: list[str]) -> list[str]:
    """For secrets too long to search character by character: each whole form, longest first."""
    found: set[str] = set()
    for secret in secrets:
        raw = secret.encode("utf-8", "surrogatepass")
        percent = quote(secret, safe="")
        found |= {secret, quote(secret), percent, re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), percent),
                  quote_plus(secret), json.dumps(secret)[1:-1], json.dumps(secret)[1:-1].replace("/", "\\/"),
                  json.dumps(secret, ensure_ascii=True)[1:-1], html.escape(secret), html.escape(secret, quote=False)}
        found |= set(_base64_forms(secret)) | {base64.b64encode(raw).decode()}
    return sorted((f for f in found if f), key=len, reverse=True)


def _pattern(secrets: list[str]) -> re.Pattern[str]:
    """Every form of every secret: character by character (a prefix tree of the secrets), or base64 (a prefix
    tree of the encodings). A lookahead on the characters a match can start with lets the engine skip every
    other position."""
    forms: dict[str, str] = {}

    def char(ch: str) -> str:
        if ch not in forms:
            forms[ch] = "(?:" + "|".join(_char_forms(ch)) + ")"
        return forms[ch]

    encoded = sorted({b for secret in secrets for b in _base64_forms(secret)})
    first = {x[0] for x in secrets} | {"%", "\\", "&", " ", "+"} | {b[0] for b in encoded}
    parts = [_trie(secrets, char)] + ([_trie(encoded, re.escape)] if encoded else [])
    return re.compile("(?=[" + "".join(re.escape(c) for c in sorted(first)) + "])(?:" + "|".join(parts) + ")")


class Redactor:
    """Finds every known secret, in every form, and replaces it with `<secret redacted>`."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True)
        self._shortest = min((len(s) for s in self.secrets), default=1 << 62)
        longs = [x for x in self.secrets if ANYWHERE <= len(x) <= CHAR_BY_CHAR]
        huge = [x for x in self.secrets if len(x) > CHAR_BY_CHAR]
        shorts = [x for x in self.secrets if len(x) < ANYWHERE]
        self._long = _pattern(longs) if longs else None
        self._huge = _literal_forms(huge)  # replaced as plain text: no pattern to compile
        self._short = re.compile(r"(?<![\w-])" + _pattern(shorts).pattern + r"(?![\w-])") if shorts else None

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, value: str) -> str:
        """A plain text value (a reason, a log or console line): every secret, long ones anywhere, short ones as tokens."""
        if len(value) < self._shortest:  # every form of a secret is at least as long as the secret
            return value
        value = self._replace_huge(value)
        if self._long is not None:
            value = self._long.sub(MARK, value)
        if self._short is not None:
            value = self._short.sub(MARK, value)
        return value

    def document(self, value: str) -> str:
        """A rendered document (JSON, HTML, XML, Markdown) whose values went through `data`: long secrets
        anywhere, once more, in whatever form the rendering gave them. Short secrets are not searched in
        markup (they would match tag and key names); `data` took them out of the values."""
        value = self._replace_huge(value)
        return self._long.sub(MARK, value) if self._long is not None else value

    def _replace_huge(self, value: str) -> str:
        for form in self._huge:
            if form in value:
                value = value.replace(form, MARK)
        return value

    def data(self, obj: Any) -> Any:
        """A copy of a JSON-like structure with `text` applied to every string, keys included."""
        if not self:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                new_key = self.text(key) if isinstance(key, str) else key
                while new_key in out:  # two keys that differ only by a secret stay two keys
                    new_key = f"{new_key} (2)"
                out[new_key] = self.data(value)
            return out
        if isinstance(obj, (list, tuple)):
            return [self.data(v) for v in obj]
        return obj


NONE = Redactor()


def harness_environment_secrets() -> set[str]:
    """Secrets the harness's own environment holds (a user's real credentials): never written either."""
    return {os.environ[k] for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN") if os.environ.get(k)}


# -- safe text ---------------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """Text any UTF-8 file or terminal can take: lone surrogates written as \\udXXX."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) if _SURROGATE.search(text) else text


def utf8(text: str) -> bytes:
    """Text as UTF-8 that cannot fail: lone surrogates written as \\udXXX (the encoder finds one faster than a
    search)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return printable(text).encode("utf-8")


def json_safe(obj: Any) -> Any:
    """A copy JSON can write with allow_nan=False: NaN and Infinity as null (a number that is not one is
    no measurement; null is what every numeric field of results.json may hold), lone surrogates escaped
    (keys too), tuples as lists, anything else as its str()."""
    if isinstance(obj, str):
        return printable(obj)
    if obj is None or isinstance(obj, (bool, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {printable(str(k)) if not isinstance(k, str) else printable(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return printable(str(obj))


# -- the writer wrapper ------------------------------------------------------------------------------


BATCH = 1 << 20  # characters (or bytes) of small pieces joined into one before they are redacted and written


class FileRange:
    """A piece of a document that lies, as UTF-8, in another open file (`length` bytes from `offset`): a
    forked child's share of a merge's results.json lines, in its spool (harness/report/forked.py). The
    writer copies it file to file inside the kernel, never through this process's memory (tens of MB);
    `read` gives its bytes (to redact them). It holds its own descriptor of the file, closed with it."""

    __slots__ = ("fd", "offset", "length")

    def __init__(self, fd: int, offset: int, length: int):
        self.fd, self.offset, self.length = os.dup(fd), offset, length

    def __len__(self) -> int:
        return self.length

    def read(self) -> bytes:
        return _read_at(self.fd, self.offset, self.length)

    def copy_to(self, out: int) -> None:
        """Appended to `out` at its position: by copy_file_range, or sendfile, or (where the system copies
        between these two files by neither) read and written."""
        at, left = self.offset, self.length
        for copy in (getattr(os, "copy_file_range", None), _sendfile):
            try:
                while left and copy is not None:
                    done = copy(self.fd, out, left, at)
                    if not done:
                        break
                    at, left = at + done, left - done
            except OSError:  # (EXDEV, EINVAL, ENOSYS: not between these files)
                pass
        view = memoryview(_read_at(self.fd, at, left)) if left else memoryview(b"")
        while view:
            view = view[os.write(out, view):]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:
        self.close()


def _sendfile(src: int, out: int, count: int, offset: int) -> int:
    return os.sendfile(out, src, offset, count) if hasattr(os, "sendfile") else 0


def _read_at(fd: int, offset: int, length: int) -> bytes:
    data = os.pread(fd, length, offset)
    while len(data) < length:
        more = os.pread(fd, length - len(data), offset + len(data))
        if not more:
            raise OSError(f"a piece of the document is {length - len(data)} bytes short of its end")
        data += more
    return data


def _batched(pieces: Iterable[str | bytes]) -> Iterator[str | bytes]:
    """Consecutive pieces of one kind joined up to about BATCH (a page's template yields ~500,000 small
    ones); a piece of BATCH or more is passed on alone. Joined pieces still end where a value ends, so no
    secret spans two of them."""
    held: list[Any] = []
    size = 0
    kind: type | None = None
    for piece in pieces:
        if type(piece) is FileRange:  # written by copying: alone
            if held:
                yield "".join(held) if kind is str else b"".join(held)
                held, size = [], 0
            yield piece
            continue
        this = bytes if isinstance(piece, bytes) else str  # a str subclass (Markup) joins as text
        if held and (this is not kind or size >= BATCH or len(piece) >= BATCH):
            yield "".join(held) if kind is str else b"".join(held)
            held, size = [], 0
        if len(piece) >= BATCH:  # a large piece goes alone, never copied into a batch
            yield piece
            continue
        kind = this
        held.append(piece)
        size += len(piece)
    if held:
        yield "".join(held) if kind is str else b"".join(held)


class Sink:
    """Where every output of a run or command is written: through the redactor, in UTF-8 that cannot fail,
    JSON without NaN, files replaced atomically."""

    def __init__(self, redactor: Redactor = NONE):
        self.redactor = redactor
        self._last_clean: Any = None  # the last structure `clean` returned (cleaning it again changes nothing)
        # when a list: a file replaced keeps its old content under another name, listed here, until
        # `remove_retired` (freeing a merge's old 100 MB results.json takes the kernel a tenth of a second,
        # which another process can spend: harness/report/__init__.py)
        self.retired: list[Path] | None = None

    # values
    def clean(self, data: Any) -> Any:
        """A structure as it may leave the harness: secrets out of every string, JSON-safe."""
        if data is self._last_clean and data is not None:
            return data
        self._last_clean = json_safe(self.redactor.data(data))
        return self._last_clean

    def adopt(self, data: Any) -> Any:
        """Take a structure `harness.results.load_results` returned as already clean, when this sink has no
        secret to take out: load_results refuses NaN and escapes lone surrogates, so `clean` would walk
        every value of ~100,000 rows to change nothing (the run that wrote the file redacted it)."""
        if not self.redactor and data is not None:
            self._last_clean = data
        return data

    def line(self, text: str) -> str:
        return printable(self.redactor.text(text))

    # files
    def write_text(self, path: Path, text: str, document: bool = True, atomic: bool = True) -> Path:
        """Write a rendered document (values already through `clean`) or plain text (`document=False`);
        `atomic=False` for a file in a folder that replaces another folder once written."""
        return self._write(path, [self.redactor.document(text) if document else self.redactor.text(text)], atomic)

    def write_pieces(self, path: Path, pieces: Iterable[str | bytes], atomic: bool = True) -> Path:
        """Write a rendered document given in pieces (rows, elements), each through `document` and written as
        it comes, so a merged report's files are never one string. A piece ends where a value ends: no
        secret spans two pieces. `atomic` as for `write_text`."""
        return self._write(path, map(self._document, _batched(pieces)), atomic)

    def _document(self, piece: str | bytes) -> str | bytes:
        """A piece through the redactor; a piece given as UTF-8 (rows copied from a results file) goes through
        as it is when there is no secret to take out."""
        if not self.redactor:
            return piece
        if type(piece) is FileRange:
            piece = piece.read()
        return self.redactor.document(piece.decode("utf-8") if type(piece) is bytes else piece)  # type: ignore[union-attr, arg-type]

    def _write(self, path: Path, texts: Iterable[str | bytes], atomic: bool = True) -> Path:
        """Texts already redacted, in UTF-8 that cannot fail (lone surrogates as \\udXXX), replaced atomically
        (a write that fails -- the pieces come from a generator, the disk fills -- leaves no partial file behind)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp") if atomic else path
        try:
            with open(tmp, "wb") as handle:
                for text in texts:
                    if type(text) is FileRange:
                        handle.flush()
                        text.copy_to(handle.fileno())
                        handle.seek(0, os.SEEK_END)  # (the file object learns where the copy ended)
                        continue
                    handle.write(text if type(text) is bytes else utf8(text))  # type: ignore[arg-type]
            if atomic:
                self._retire(path)
                tmp.replace(path)
        except BaseException:
            if atomic:
                try:
                    tmp.unlink(missing_ok=True)
                except OSError:
                    pass
            raise
        return path

    def _retire(self, path: Path) -> None:
        """The file at `path`, about to be replaced, kept as a second name (a hard link), for `remove_retired`."""
        if self.retired is None:
            return
        aside = path.with_name(f".{path.name}.retired")
        try:
            aside.unlink(missing_ok=True)  # (one a process that ended early left)
            os.link(path, aside)
        except OSError:  # no file there yet, or no hard link here: replaced as it is
            return
        self.retired.append(aside)

    def remove_retired(self) -> None:
        """Remove the old contents of the files replaced so far (`retired`)."""
        while self.retired:
            self.retired.pop().unlink(missing_ok=True)

    def write_json(self, path: Path, data: Any, render: Callable[[Any], str] | None = None) -> Path:
        clean = self.clean(data)
        text = render(clean) if render else json.dumps(clean, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
        return self.write_text(path, text)

    def json_line(self, record: Any) -> str:
        """One journal line (no newline)."""
        return self.redactor.document(json.dumps(self.clean(record), ensure_ascii=False, separators=(",", ":"), allow_nan=False))

    # console
    def say(self, text: str, stream: TextIO | None = None, end: str = "\n") -> None:
        stream = stream or sys.stderr
        stream.write(self.line(text) + end)
        stream.flush()

    def console(self, stream: TextIO | None = None) -> Callable[[str], None]:
        """A `log(line)` function writing redacted lines to `stream` (stderr by default)."""
        return lambda line: self.say(line, stream)
