"""The curated corpus: valid, annotated, blessed from the current reference, and passed by it."""

from __future__ import annotations

from collections import Counter

from harness.cases import load_cases

from conftest import ROOT, run_results, sigharness

CASES = ROOT / "cases"


def test_corpus_loads_without_problems_and_is_annotated():
    loaded = load_cases([CASES])
    assert loaded.errors == []
    curated = [c for c in loaded.cases if not c.id.startswith("found/")]
    assert len(curated) >= 150
    for case in loaded.cases:
        assert case.flags.get("note"), f"{case.id} has no flags.note"
        assert case.flags.get("refs") or case.flags.get("found_by"), f"{case.id} has no refs"
    topics = Counter(c.id.split("/")[0] for c in curated)
    for topic in ("query", "path", "headers", "token", "payload", "presign", "sigv4a", "services"):
        assert topics[topic] > 0, topic
    divergences = {c.flags.get("divergence") for c in loaded.cases}
    assert len({d for d in divergences if d}) >= 25


def test_blessed_expectations_match_the_reference_signer():
    proc = sigharness("bless", "--check", str(CASES))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_reference_adapter_passes_the_whole_corpus(tmp_path):
    proc, data = run_results(tmp_path, "--cases", str(CASES), "--adapters", "py-reference")
    # A POST case that pins a published policy document (its bytes, CRLF and all) expects that
    # document; the reference adapter, like every generator, writes its own: variant, accepted.
    pinned = {"post-policy/s3-docs-example", "post-policy/aws-sdk-php-postobjectv4", "post-policy/aws-sdk-php-postobjectv4-session-token"}
    for r in data["results"]:
        if r["case"] in pinned:
            assert r["status"] == "variant" and r["stage"] == "policy_document", r
    # The reference refuses to presign beyond a week, which a case allowing refusals counts as variant.
    refused = {r["case"] for r in data["results"] if data["cases"][r["case"]]["refusal_ok"] and r["reason"].startswith("refused (the case allows it)")}
    assert refused <= {"tokens/dsql-expires-above-one-week"}, refused
    statuses = Counter(r["status"] for r in data["results"] if r["case"] not in pinned | refused)
    assert set(statuses) == {"pass"}, [(r["case"], r["mode"], r["reason"]) for r in data["results"] if r["status"] != "pass"][:5]
    assert {"form", "token"} <= {r["mode"] for r in data["results"]}
    expect_error = [r for r in data["results"] if data["cases"][r["case"]]["expect_error"]]
    assert expect_error and all("refused as expected" in r["reason"] for r in expect_error)
