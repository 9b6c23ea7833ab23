"""JSON-lines host for the project's Python signing-library adapters, on the adapter SDK.

Usage: python host.py <module:Class>   (the manifest names the entry; the harness says the name in hello)

One process hosts exactly one adapter; its module is imported lazily so that, for example,
`py-botocore` can make awscrt unimportable before botocore is first imported. The protocol loop,
the refused-vs-error rules and the bench hook are harness/adapter_sdk.py's, the same an out-of-tree
adapter uses (docs/adapter-protocol.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from harness.adapter_sdk import main
except ImportError:  # a checkout whose harness is not on the path: it is two folders up (after the libraries)
    sys.path.append(str(Path(__file__).resolve().parents[2]))
    from harness.adapter_sdk import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
