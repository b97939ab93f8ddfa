#!/usr/bin/env python3
"""copy_file.py SRC DST: copy a built file (following symlinks), keeping its mode."""
import shutil
import sys

shutil.copy2(sys.argv[1], sys.argv[2])
