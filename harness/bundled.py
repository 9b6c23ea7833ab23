"""Where the curated cases and the built-in adapters are: the checkout's folders, else the copies an
installed package carries in harness/_bundled/ (setup.py puts them there when a wheel is built)."""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
BUNDLED = Path(__file__).resolve().parent / "_bundled"
# What a wheel carries, relative to the checkout: the curated cases, the adapters that need no build
# (Python: the reference signer and the Python libraries), and the JavaScript SDK for new adapters.
SHIPPED = ("cases", "adapters/reference", "adapters/python", "adapters/js/sdk.js")


def in_checkout() -> bool:
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "harness").is_dir()


def project_path(relative: str) -> Path:
    """`relative` (e.g. "cases") in the checkout when the harness runs from one, else the installed copy."""
    checkout = CHECKOUT / relative
    if in_checkout() and checkout.exists():
        return checkout
    return BUNDLED / relative


def work_folder() -> Path:
    """Where outputs go by default: the checkout, or the current folder for an installed harness."""
    return CHECKOUT if in_checkout() else Path.cwd()
