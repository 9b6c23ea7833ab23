"""The Python adapters pin the clock of libraries that read datetime.utcnow() directly (botocore < 1.36)."""

from __future__ import annotations

import datetime as dt
import sys
import types

from conftest import ROOT

sys.path.insert(0, str(ROOT / "adapters" / "python"))
from ad_common import pin_module_clock  # noqa: E402

FIXED = dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.timezone.utc)


def test_pinned_module_reads_the_fixed_time_and_keeps_the_rest():
    library = types.ModuleType("old_signer")
    exec("import datetime\ndef stamp():\n    return datetime.datetime.utcnow().strftime('%Y%m%dT%H%M%SZ')\n"
         "def aware():\n    return datetime.datetime.now(datetime.timezone.utc)\n", library.__dict__)
    assert library.stamp() != "20150830T123600Z"
    pin_module_clock(library, lambda: FIXED)
    assert library.stamp() == "20150830T123600Z"
    assert library.aware() == FIXED
    assert library.datetime.timedelta is dt.timedelta and library.datetime.timezone is dt.timezone
    assert dt.datetime.utcnow().year >= 2026  # the real module is untouched
