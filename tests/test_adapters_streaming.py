"""The libraries' streaming signers over cases/streaming (docs/streaming.md): the ones with a
streaming API sign both published examples and the inner-message events correctly, at least four
libraries give verdicts per surface, and the rest say why they cannot (naming the version)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from conftest import ROOT, run_results, unavailable

SIGNERS = ("rust-aws-sigv4", "java-crt", "java-sdk-v2", "py-botocore", "go-sdk-v2", "go-sdk-v1", "js-smithy", "rb-aws-sigv4")
WITHOUT = ("py-awscrt", "js-aws-crt", "go-http-auth")


@pytest.mark.slow
def test_streaming_signers_give_verdicts_and_the_others_say_why(tmp_path):
    _, data = run_results(tmp_path, "--cases", str(ROOT / "cases" / "streaming"), "--adapters", ",".join(SIGNERS + WITHOUT))
    missing = [a for a in SIGNERS + WITHOUT if not data["adapters"].get(a, {}).get("available", True)]
    if missing:
        unavailable(f"adapters not available here: {missing}", "the streaming adapters")
    rows = {(r["adapter"], r["case"]): r for r in data["results"]}
    for adapter in ("rust-aws-sigv4", "java-crt"):
        assert rows[(adapter, "streaming/chunked-s3-docs-example")]["status"] == "pass"  # the published chain
        assert rows[(adapter, "streaming/chunked-trailer-crc64nvme")]["status"] == "pass"
    for adapter in ("rust-aws-sigv4", "java-crt", "go-sdk-v2", "go-sdk-v1", "js-smithy", "rb-aws-sigv4"):
        assert rows[(adapter, "streaming/events-every-header-type")]["status"] == "pass", rows[(adapter, "streaming/events-every-header-type")]
    assert rows[("java-crt", "streaming/chunked-sigv4a-trailer")]["status"] == "pass"
    judged: dict[str, set[str]] = defaultdict(set)
    for (adapter, case), row in rows.items():
        surface = "event-stream" if case.startswith("streaming/events") else "aws-chunked"
        if row["status"] in ("pass", "variant", "fail"):
            judged[surface].add(adapter)
        elif row["status"] == "unsupported":
            if adapter in WITHOUT:  # the version looked at is named
                version = data["adapters"][adapter]["library_version"].split()[0]
                assert version in row["reason"], f"{adapter} {case}: {version} not in {row['reason']!r}"
        else:
            pytest.fail(f"{adapter} {case}: {row['status']}: {row['reason']}")
    assert len(judged["aws-chunked"]) >= 4 and len(judged["event-stream"]) >= 4, dict(judged)
    assert not judged["aws-chunked"] & set(WITHOUT) and not judged["event-stream"] & set(WITHOUT)
