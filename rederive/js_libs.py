"""Drive rederive/js_libs.js (JS libraries) or rederive/ruby_lib.rb (aws-sigv4) for the sample's rows and
judge what the libraries signed with rederive/judge.py (docs/rederivation.md).

    PYTHONPATH=$PWD python rederive/js_libs.py                 # js_libs.json
    PYTHONPATH=$PWD python rederive/js_libs.py ruby_lib.json   # the Ruby gem
    PYTHONPATH=$PWD python rederive/js_libs.py go_libs.json    # the three Go signers (rederive/go)
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import judge as independent  # noqa: E402
from python_libs import same  # noqa: E402

from harness.cases import load_cases  # noqa: E402  (case data only)

LIBS = ("js-aws4", "js-aws4fetch", "js-smithy", "js-aws-crt")
RUNNERS = {  # adapter -> (command, output file): each reads the same JSON lines
    **{name: (["node", str(HERE / "js_libs.js")], "js_libs.json") for name in LIBS},
    "rb-aws-sigv4": (["ruby", str(HERE / "ruby_lib.rb")], "ruby_lib.json"),
    # the Go program, built from rederive/go with the module versions the Go adapters pin (module cache only)
    **{name: (["sh", "-c", f"cd {HERE / 'go'} && GOFLAGS=-mod=mod GOPROXY=off go build -o .rederive-go . && exec ./.rederive-go"],
              "go_libs.json") for name in ("go-sdk-v2", "go-sdk-v1", "go-http-auth")},
}


def main(output: str = "js_libs.json") -> int:
    sample = json.loads((HERE / "sample.json").read_text())["sample"]
    command = next(cmd for name, (cmd, out) in RUNNERS.items() if out == output)
    cases = {c.id: c for c in load_cases([HERE.parent / "cases", Path("/work/shared/vectors/aws-c-auth")]).cases}
    todo = [(i, row) for i, row in enumerate(sample) if RUNNERS.get(row["adapter"], (None, ""))[1] == output
            and row["mode"] in ("header", "query")
            and cases[row["case"]].context.algorithm == "sigv4"]
    lines = []
    for i, row in todo:
        case = cases[row["case"]]
        ctx, req = case.context, case.request
        lines.append(json.dumps({"id": i, "lib": row["adapter"], "mode": row["mode"], "method": req.method, "url": req.url,
                                 "host": req.host, "path": req.path, "query": req.query, "headers": [list(h) for h in req.headers],
                                 "body_b64": base64.b64encode(req.body).decode() if req.body else None,
                                 "ctx": {"access_key_id": ctx.access_key_id, "secret_access_key": ctx.secret_access_key,
                                         "region": ctx.region, "service": ctx.service, "timestamp": ctx.timestamp.isoformat(),
                                         "expires": ctx.expires or 3600, "normalize_path": ctx.normalize_path,
                                         "double_encode": ctx.double_encode}}))
    env = dict(os.environ, NODE_PATH=str(HERE.parent / "adapters" / "js" / "node_modules"))
    done = subprocess.run(command, input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, timeout=120)
    if done.returncode:
        print(done.stderr, file=sys.stderr)
    out = []
    for line in done.stdout.splitlines():
        got = json.loads(line)
        row = sample[got["id"]]
        case = cases[row["case"]]
        entry = {"case": row["case"], "mode": row["mode"], "adapter": row["adapter"], "status": row["status"], "reason": row["reason"][:160]}
        if "signed" in got:
            s3 = case.context.service == "s3" or not case.context.double_encode
            ok, why = independent.judge(got["signed"], case.context.secret_access_key, case.context.service, case.request.body, s3)
            entry.update(independent_valid=ok, why=why, same_as_recorded=same(got["signed"], row.get("signed") or {}), signed=got["signed"])
        else:
            entry["refused"] = got["refused"]
        out.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if k != "signed"}))
    (HERE / output).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
