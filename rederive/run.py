"""Re-derive the sample's verdicts outside the harness (docs/rederivation.md): each signed request of the
sample judged by rederive/judge.py (written from the AWS documentation, no harness code), next to the
harness's verdict. The case data (credentials, body, service, open choices) is read with the case loader.

    PYTHONPATH=$PWD python rederive/run.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import judge as independent  # noqa: E402

from harness.cases import load_cases  # noqa: E402  (case data only: request, credentials, service)


def expected_fields(row: dict) -> str:
    """The form fields of a row whose fields equal the expectation (the row keeps no copy)."""
    data = _full_run()
    return data["checks"][f"{row['case']}|{row['mode']}"]["expected"]["form_fields"]


_DATA: dict = {}


def _full_run() -> dict:
    if not _DATA:
        sample = json.loads((HERE / "sample.json").read_text())
        _DATA.update(json.loads(Path(sample["results"]).read_text()))
    return _DATA


def main() -> int:
    sample = json.loads((HERE / "sample.json").read_text())["sample"]
    loaded = load_cases([HERE.parent / "cases", Path("/work/shared/vectors/aws-c-auth")])
    cases = {c.id: c for c in loaded.cases}
    out = []
    for row in sample:
        case = cases[row["case"]]
        ctx = case.context
        signed, ver = row.get("signed"), row.get("verification") or {}
        entry = {"case": row["case"], "mode": row["mode"], "adapter": row["adapter"], "status": row["status"],
                 "harness_valid": ver.get("valid"), "harness_rules": ver.get("rules")}
        auth = json.dumps(signed) if signed else ""
        if signed and "AWS4-HMAC-SHA256" in auth and row["mode"] in ("header", "query"):
            s3 = ctx.service == "s3" or not ctx.double_encode
            ok, why = independent.judge(signed, ctx.secret_access_key, ctx.service, case.request.body, s3)
            if not ok and "query-plus-as-space" in case.open_choices:
                ok2, _ = independent.judge(signed, ctx.secret_access_key, ctx.service, case.request.body, s3, plus_as_space=True)
                if ok2:
                    ok, why = True, "accepted under query-plus-as-space"
            entry.update(independent_valid=ok, independent_why=why)
        elif row["mode"] == "form":
            fields = ((row.get("stages") or {}).get("form_fields") or {}).get("actual") or expected_fields(row)
            post = case.subject_json["post"]
            at = getattr(case.server, "at", None) or (case.server or {}).get("at")
            filename = getattr(case.upload, "filename", None) or (case.upload or {}).get("filename", "")
            ok, why = independent.judge_post(fields, ctx.secret_access_key, post["bucket"], str(at).replace(" ", "T"), filename)
            entry.update(independent_valid=ok, independent_why=why)
        out.append(entry)
        print(json.dumps(entry))
    (HERE / "results.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
