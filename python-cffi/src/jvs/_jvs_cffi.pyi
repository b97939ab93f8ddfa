# Type stub for the module generated at build time by tools/gen_cffi.py (cffi ABI mode).
from typing import Any

ffi: Any
