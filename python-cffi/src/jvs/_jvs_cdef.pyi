# Type stub for the module generated at build time by tools/gen_cffi.py.
from typing import Tuple

CDEF: str
HEADER_SHA256: str
FUNCTIONS: Tuple[str, ...]
