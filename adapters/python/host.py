"""JSON-lines host for the Python signing-library adapters.

Usage: python host.py <module:Class>   (the manifest names the entry; the harness says the name in hello)

One process hosts exactly one adapter; its module is imported lazily so that, for example,
`py-botocore` can make awscrt unimportable before botocore is first imported.
See docs/adapter-protocol.md for the messages.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import traceback

from ad_common import Check, Rejected, Stopwatch, Unsupported, describe, hmac_sha256_chain

PROTOCOL = 1

def load(entry: str):
    """The adapter class named by the manifest's entry, `module:Class` (imported only now)."""
    module_name, _, class_name = entry.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)()


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Host:
    def __init__(self, adapter, out) -> None:
        self.name: str | None = None  # the harness says it in hello (from the manifest)
        self.adapter = adapter
        self.out = out

    def send(self, obj: dict) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n")
        self.out.flush()

    # --- messages ------------------------------------------------------------------------------
    def hello(self, msg: dict) -> dict:
        self.name = msg.get("adapter")
        info = self.adapter.hello()
        runtime = f"python {platform.python_version()}"
        if info.get("runtime_extra"):
            runtime += f" ({info['runtime_extra']})"
        return {
            "type": "hello",
            "protocol": PROTOCOL,
            **({"name": self.name} if self.name else {}),
            "language": "python",
            "runtime": runtime,
            "library": info["library"],
            "library_version": info["library_version"],
            "capabilities": {
                "algorithms": info["algorithms"],
                "modes": info["modes"],
                "exposes": info.get("exposes", []),
                "bench": True,
                **({"surfaces": info["surfaces"]} if "surfaces" in info else {}),
            },
        }

    def sign(self, msg_id: str, raw_check: dict) -> dict:
        base = {"type": "result", "id": msg_id}
        try:
            check = Check.parse(raw_check)
            state = self.adapter.prepare(check)
            watch = Stopwatch()
            outcome = self.adapter.sign(check, state, watch)
        except Unsupported as exc:
            return {**base, "status": "unsupported", "reason": str(exc)}
        except Rejected as exc:
            return {**base, "status": "rejected", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - an adapter bug, reported as such
            log(traceback.format_exc())
            return {**base, "status": "error", "reason": describe(exc)}
        answer = {
            **base,
            "status": "signed",
            "canonical_request": outcome.get("canonical_request"),
            "string_to_sign": outcome.get("string_to_sign"),
            "elapsed_ns": watch.elapsed_ns,
        }
        for what in ("signed", "form", "token"):  # a request, a presigned POST form, or a token
            if what in outcome:
                answer[what] = outcome[what]
        return answer

    def bench(self, msg: dict) -> dict:
        msg_id = msg.get("id")
        iterations = int(msg.get("iterations", 1))
        if msg.get("floor") == "hmac-sha256-chain":
            return {"type": "bench", "id": msg_id, "iterations": iterations,
                    "elapsed_ns": hmac_sha256_chain(iterations)}
        if "floor" in msg:
            return {"type": "result", "id": msg_id, "status": "unsupported",
                    "reason": f"unknown bench floor {msg['floor']!r}"}
        base = {"type": "result", "id": msg_id}
        try:
            check = Check.parse(msg["check"])
            state = self.adapter.prepare(check)
            watch = Stopwatch()
            set_capture = getattr(self.adapter, "set_capture", None)
            if set_capture:
                set_capture(False)
            try:
                for _ in range(iterations):
                    self.adapter.sign(check, state, watch)
            finally:
                if set_capture:
                    set_capture(True)
        except Unsupported as exc:
            return {**base, "status": "unsupported", "reason": str(exc)}
        except Rejected as exc:
            return {**base, "status": "rejected", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001
            log(traceback.format_exc())
            return {**base, "status": "error", "reason": describe(exc)}
        return {"type": "bench", "id": msg_id, "iterations": iterations,
                "elapsed_ns": watch.elapsed_ns}

    def serve(self, lines) -> None:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError as exc:
                self.send({"type": "result", "id": None, "status": "error",
                           "reason": f"not JSON: {exc}"})
                continue
            kind = msg.get("type")
            if kind == "hello":
                self.send(self.hello(msg))
            elif kind == "sign":
                self.send(self.sign(msg.get("id"), msg.get("check") or {}))
            elif kind == "bench":
                self.send(self.bench(msg))
            elif kind == "bye":
                return
            else:
                self.send({"type": "result", "id": msg.get("id"), "status": "error",
                           "reason": f"unknown message type {kind!r}"})


def main(argv: list[str]) -> int:
    if len(argv) != 2 or ":" not in argv[1]:
        log("usage: host.py <module:Class> (see adapter.yaml)")
        return 2
    # stdout carries protocol lines only: anything a library prints goes to stderr.
    out = sys.stdout
    sys.stdout = sys.stderr
    adapter = load(argv[1])
    Host(adapter, out).serve(sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
