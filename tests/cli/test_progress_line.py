"""The progress line on a real terminal (a pty of 40, 80 and 120 columns): user words, never a
library phase name; every line fits the width and is made of whole segments (never cut mid-unit);
percent follows bytes; an incremental snapshot ends with its bytes done equal to its total; verify
keeps one phase."""

import fcntl
import os
import re
import select
import struct
import subprocess
import termios

import pytest

from cli_helpers import base_env, write

LABEL = r"(Scanning|Copying|Cloning|Hashing|Checking files|Saving|Comparing|Restoring|Filling worktree|Verifying|Reading snapshots|Planning|Checking|Deleting)"
NUM = r"\d+(\.\d)?"
UNIT = r"(B|KiB|MiB|GiB|TiB)"
BYTES = rf"({NUM}( {UNIT})?/{NUM} {UNIT}|{NUM} {UNIT}( hashed)?)"
LINE = re.compile(rf"^{LABEL}( \[[#-]+\])?( \d{{1,3}}%)?( {BYTES})?( \d+(/\d+)? (files|entries|snapshots))?( ETA \d+:\d\d(:\d\d)?)?$")


def run_in_pty(jvs, args, cwd, columns):
    """Runs jvs with stdout and stderr on a pty of `columns` columns; returns every progress line drawn."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen([jvs.binary, *args], cwd=cwd, env=base_env(COLUMNS=str(columns)),
                         stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait(timeout=60) == 0, out.decode(errors="replace")
    text = out.decode(errors="replace")
    lines = []
    for piece in re.split(r"[\r\n]", text):
        piece = piece.replace("\x1b[K", "")
        if piece.strip():
            lines.append(piece)
    return lines


def progress_lines(lines):
    return [l for l in lines if re.match(LABEL + r"( |$)", l)]


@pytest.fixture
def big(repo):
    for i in range(24):
        write(repo.main / f"d{i % 3}" / f"f{i}.bin", "x" * (200_000 + i * 1000))
    return repo


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_snapshot_line_fits_and_is_whole(jvs, big, columns):
    lines = run_in_pty(jvs, ["snapshot", "first"], big.main, columns)
    drawn = progress_lines(lines)
    assert any(l.startswith("Copying") for l in drawn), lines
    for l in drawn:
        assert len(l) <= columns - 1, (columns, l)
        assert LINE.match(l), f"not whole segments at {columns} columns: {l!r}"
    text = "\n".join(lines)
    assert "snapshot copy" not in text and "snapshot scan" not in text
    if columns >= 80:  # room for the bytes: the percent is theirs
        last = [l for l in drawn if l.startswith("Copying")][-1]
        assert "100%" in last and re.search(r" (\d+\.\d)/\1 MiB", last), last


def test_incremental_snapshot_ends_with_all_bytes_done(jvs, big):
    run_in_pty(jvs, ["snapshot", "first"], big.main, 120)
    write(big.main / "new.bin", "y" * 300_000)
    drawn = progress_lines(run_in_pty(jvs, ["snapshot", "second"], big.main, 120))
    last = [l for l in drawn if l.startswith("Copying")][-1]
    # 25 files, 24 linked from the first snapshot: they count as done
    m = re.search(rf"100% ({NUM})/({NUM}) MiB 25/25 files", last)
    assert m and m.group(1) == m.group(3), last


def test_fork_and_verify_in_words(jvs, big):
    jvs.ok("snapshot", "base")
    lines = run_in_pty(jvs, ["worktree", "fork", "side"], big.main, 80)
    text = "\n".join(lines)
    assert "worktree_fork" not in text and "Filling worktree" in text, lines
    lines = run_in_pty(jvs, ["verify", "--all"], big.main, 80)
    drawn = progress_lines(lines)
    assert drawn and all(l.startswith("Verifying") for l in drawn), drawn  # no inner scan/hash phase
    assert "verify verify" not in "\n".join(lines)
    assert any(re.search(r"\d+/\d+ snapshots", l) for l in drawn), drawn
