"""Builders for hand-made results.json data used by the report, diff and history tests (no test here).

The data is small and deterministic but shaped like a real run: several topics, all five verdicts, an
unavailable adapter, a case whose header value is a <script>, and a session token in signed headers
and presigned URLs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRq" \
        "TflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFv"
TOKEN_QUERY = TOKEN.replace("/", "%2F")
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SCRIPT = "<script>window.__pwned = 1</script>"

CASES = {
    "query/plus-literal": {"title": "A raw '+' in a query value", "tags": ["query", "encoding"],
                           "note": "Signers split three ways.", "refs": ["mhart/aws4#126"], "divergence": "D1",
                           "open_choices": ["query-plus-as-space"], "url": "https://example.amazonaws.com/?q=a+b"},
    "query/sorting": {"title": "Parameters sorted by code point", "tags": ["query"], "note": "Sort order.",
                      "url": "https://example.amazonaws.com/?b=1&a=2"},
    "headers/script": {"title": f"A header value {SCRIPT}", "tags": ["headers", "<b>bold</b>"],
                       "note": "Escaping: </script><script>window.__pwned = 2</script> & <img src=x onerror=window.__pwned=3>",
                       "refs": ["https://example.com/?a=<b>", "javascript:alert(1)"],
                       "url": "https://example.amazonaws.com/", "headers": [["X-Evil", SCRIPT]]},
    "token/session": {"title": "A session token", "tags": ["token"], "note": "Token placement.", "token": True,
                      "url": "https://example.amazonaws.com/"},
    "path/dots": {"title": "Dot segments", "tags": ["path"], "note": "Normalization.", "url": "https://example.amazonaws.com/a/../b"},
}

# status per (case, mode) for each available adapter
VERDICTS = {
    "py-good": {("query/plus-literal", "header"): "pass", ("query/plus-literal", "query"): "pass",
                ("query/sorting", "header"): "pass", ("query/sorting", "query"): "pass",
                ("headers/script", "header"): "pass", ("headers/script", "query"): "pass",
                ("token/session", "header"): "pass", ("token/session", "query"): "pass",
                ("path/dots", "header"): "pass", ("path/dots", "query"): "pass"},
    "js-mixed": {("query/plus-literal", "header"): "variant", ("query/plus-literal", "query"): "fail",
                 ("query/sorting", "header"): "pass", ("query/sorting", "query"): "pass",
                 ("headers/script", "header"): "fail", ("headers/script", "query"): "unsupported",
                 ("token/session", "header"): "pass", ("token/session", "query"): "error",
                 ("path/dots", "header"): "unsupported", ("path/dots", "query"): "pass"},
}
ADAPTERS = {
    "py-good": {"language": "python", "library": "goodlib", "library_version": "1.0.0", "runtime": "python 3.11.7"},
    "js-mixed": {"language": "javascript", "library": "mixedlib", "library_version": "2.0.0", "runtime": "node 18.19.0"},
}


def _stages(case_id: str, mode: str, status: str) -> dict[str, Any]:
    spec = CASES[case_id]
    token = spec.get("token")
    cr = ["GET", "/", "q=a%2Bb" if case_id == "query/plus-literal" else "", "host:example.amazonaws.com",
          "x-amz-date:20150830T123600Z"]
    if token:
        cr.append(f"x-amz-security-token:{TOKEN}")
    cr += ["", "host;x-amz-date" + (";x-amz-security-token" if token else ""), "e3b0c442"]
    expected_cr = "\n".join(cr)
    actual_cr = expected_cr
    if status in ("fail", "variant"):
        changed = list(cr)
        changed[2] = "q=a%20b"
        actual_cr = "\n".join(changed)
    url = spec["url"]
    if mode == "query" and token:
        url += f"?X-Amz-Security-Token={TOKEN_QUERY}&X-Amz-Signature=abc"
    signed_text = f"GET {url}\nhost: example.amazonaws.com" + (f"\nx-amz-security-token: {TOKEN}" if token and mode == "header" else "")
    stages = {
        "canonical_request": {"expected": expected_cr, "actual": actual_cr, "compared": True, "equal": expected_cr == actual_cr},
        "string_to_sign": {"expected": "AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nhash", "actual": None, "compared": False,
                           "note": "not exposed by the library"},
        "signature": {"expected": "aaaa", "actual": "aaaa" if status == "pass" else "bbbb", "compared": True, "equal": status == "pass"},
        "signed_request": {"expected": signed_text, "actual": signed_text, "compared": True, "equal": True},
    }
    if not stages["canonical_request"]["equal"]:
        stages["canonical_request"].update(line=3, diff="--- expected\n+++ actual\n@@ -3 +3 @@\n-q=a%2Bb\n+q=a%20b")
    if not stages["signature"]["equal"]:
        stages["signature"].update(line=1, diff="--- expected\n+++ actual\n@@ -1 +1 @@\n-aaaa\n+bbbb")
    return stages


def _row(case_id: str, mode: str, adapter: str, status: str) -> dict[str, Any]:
    spec = CASES[case_id]
    row: dict[str, Any] = {"case": case_id, "mode": mode, "adapter": adapter, "status": status, "reason": "",
                           "stage": None, "stages": {}, "verification": None, "signed": None, "expected_source": "reference",
                           "elapsed_ns": 1000, "duration_ms": 1.5}
    if status in ("unsupported", "error"):
        row["reason"] = {"unsupported": "the library cannot express </script> repeated headers",
                         "error": "adapter fault: exited with code 1\x1b[0m\x00"}[status]
        return row
    row["stages"] = _stages(case_id, mode, status)
    row["stage"] = None if status == "pass" else "canonical_request"
    row["reason"] = {"pass": "", "variant": "differs from the expectation in canonical_request, but a server accepts it",
                     "fail": "a server would reject it: signature does not match; first difference in canonical_request"}[status]
    headers = [["Host", "example.amazonaws.com"], ["X-Amz-Date", "20150830T123600Z"]]
    headers += [list(h) for h in spec.get("headers", [])]
    url = spec["url"]
    if spec.get("token"):
        if mode == "header":
            headers.append(["X-Amz-Security-Token", TOKEN])
        else:
            url += f"?X-Amz-Security-Token={TOKEN_QUERY}&X-Amz-Signature=abc"
    row["signed"] = {"method": "GET", "url": url, "headers": headers, "body_b64": None}
    row["verification"] = {"valid": status != "fail", "reason": "" if status != "fail" else "signature does not match", "rules": "spec"}
    return row


def make_results(date: str = "2026-11-20T00:00:00Z", overrides: dict[tuple[str, str, str], str] | None = None,
                 versions: dict[str, str] | None = None) -> dict[str, Any]:
    """A results.json structure; `overrides` sets (case, mode, adapter) -> status; `versions` adapter -> library version."""
    overrides = overrides or {}
    cases = {}
    for cid, spec in CASES.items():
        cases[cid] = {
            "title": spec["title"], "origin": "cases", "tags": spec["tags"], "note": spec["note"], "refs": spec.get("refs", []),
            "divergence": spec.get("divergence"), "open_choices": spec.get("open_choices", []), "refusal_ok": False,
            "expect_error": None, "source": f"/work/cases/{cid.split('/')[0]}.yaml:1", "algorithm": "sigv4", "service": "service",
            "region": "us-east-1", "region_set": ["us-east-1"], "modes": ["header", "query"], "session_token": bool(spec.get("token")),
            "request": {"method": "GET", "url": spec["url"], "headers": spec.get("headers", []), "body_bytes": 0},
        }
    adapters = {}
    for name, info in ADAPTERS.items():
        adapters[name] = {"name": name, **info, "capabilities": {}, "available": True, "folder": "x", "restarts": 0,
                          "faults": [], "checks": 10, "library_elapsed_ns": 10000}
        if versions and name in versions:
            adapters[name]["library_version"] = versions[name]
    adapters["go-off"] = {"name": "go-off", "language": "go", "library": "offlib", "available": False,
                          "reason": "toolchain missing: go (apt install golang)"}
    results = []
    for adapter, table in VERDICTS.items():
        for (cid, mode), status in table.items():
            results.append(_row(cid, mode, adapter, overrides.get((cid, mode, adapter), status)))
    results.sort(key=lambda r: (r["case"], r["mode"], r["adapter"]))
    return {
        "format": "sigharness-results", "version": 1,
        "manifest": {"harness_version": "0.1.0", "date": date, "platform": "Linux-test", "python": "3.11.7", "machine": "x86_64",
                     "case_sources": [{"path": "/work/cases", "kind": "yaml cases", "revision": "abc1234"}],
                     "settings": {"case_paths": ["/work/cases"], "adapters": None}},
        "adapters": adapters, "cases": cases, "case_errors": ["/work/cases/bad.yaml:3: 'id' is a required property"],
        "results": results,
    }


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def with_status(data: dict[str, Any], case: str, mode: str, adapter: str, status: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for row in out["results"]:
        if (row["case"], row["mode"], row["adapter"]) == (case, mode, adapter):
            row["status"] = status
            return out
    raise KeyError((case, mode, adapter))


def question_results() -> dict[str, Any]:
    """make_results shaped for the report's questions (issue 17): services and session tokens that cut across
    topics, a reference signer, a wire column (`signer+client`), two versions of one library, and one fail of
    each kind: signed what must be refused (expect_error), refused a valid request, a server rejects it."""
    data = make_results()
    services = {"query/plus-literal": "execute-api", "query/sorting": "execute-api", "headers/script": "s3",
                "token/session": "execute-api", "path/dots": "s3"}
    for cid, service in services.items():
        data["cases"][cid]["service"] = service
    data["cases"]["path/dots"]["session_token"] = True
    data["cases"]["presign/expires-7d"] = {
        **copy.deepcopy(data["cases"]["query/sorting"]), "title": "X-Amz-Expires 604801 (one second over 7 days)",
        "tags": ["presign", "expires"], "expect_error": "X-Amz-Expires above 604800", "modes": ["query"],
        "refs": ["https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html"], "divergence": None,
        "source": "/work/cases/presign.yaml:1"}
    rows = data["results"]
    refused = next(r for r in rows if (r["case"], r["mode"], r["adapter"]) == ("path/dots", "query", "js-mixed"))
    refused.update(status="fail", stage="sign", reason="refused a valid request: URIError: URI malformed", stages={},
                   verification=None, signed=None)
    flagged = next(r for r in rows if (r["case"], r["mode"], r["adapter"]) == ("query/plus-literal", "query", "js-mixed"))
    flagged["opinions"] = {"oracle-lenient": {"verdict": "accept", "reason": "signature matches its reading"}, "oracle-strict": {"verdict": "reject"}}
    flagged["oracles_disagree"] = [{"oracle": "oracle-lenient", "known": "lenient-plus"}]
    signed = _row("query/sorting", "query", "js-mixed", "fail")
    signed.update(case="presign/expires-7d", stage="sign", reason="signed a request a correct signer refuses: X-Amz-Expires above 604800")
    refusal = _row("query/sorting", "query", "py-good", "pass")
    refusal.update(case="presign/expires-7d", stage=None, stages={}, signed=None, verification=None,
                   reason="refused as expected (X-Amz-Expires above 604800): expires too long")
    rows += [signed, refusal]
    data["adapters"]["py-reference"] = {**data["adapters"]["py-good"], "name": "py-reference", "library": "sigharness reference signer",
                                        "folder": "reference"}
    data["adapters"]["py-good+urllib"] = {**data["adapters"]["py-good"], "name": "py-good+urllib"}
    data["adapters"]["js-mixed@3.0.0"] = {**data["adapters"]["js-mixed"], "name": "js-mixed", "library_version": "3.0.0"}
    extra = []
    for row in rows:
        if row["adapter"] == "py-good":
            extra.append({**copy.deepcopy(row), "adapter": "py-reference"})
            extra.append({**copy.deepcopy(row), "adapter": "py-good+urllib"})
        if row["adapter"] == "js-mixed":
            again = copy.deepcopy(row)
            again["adapter"] = "js-mixed@3.0.0"
            if (row["case"], row["mode"]) == ("query/plus-literal", "query"):  # fixed in 3.0.0
                again.update(status="pass", stage=None, reason="")
            extra.append(again)
    rows += extra
    rows.sort(key=lambda r: (r["case"], r["mode"], r["adapter"]))
    return data
