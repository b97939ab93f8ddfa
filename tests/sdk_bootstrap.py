"""Where the Python suites find the SDK and the library (imported first by their conftest.py).

By default the jvs package is imported from the source tree (python-cffi/src) and loads the
library named by $JVS_LIBRARY, else this checkout's build/libjvs.so.1. JVS_TEST_INSTALLED=1 tests
an installed jvs package instead. Nothing here fakes the library.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "python-cffi" / "src"

if os.environ.get("JVS_TEST_INSTALLED") != "1" and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
if not os.environ.get("JVS_LIBRARY"):
    for cand in (ROOT / "build" / "libjvs.so.1", ROOT / "build" / "libjvs.so"):
        if cand.exists():
            os.environ["JVS_LIBRARY"] = str(cand)
            break
