#!/usr/bin/env python3
"""The project's own oracle for the Go tool's integrity hashes (format_version 1).

Written from the documented format (docs/ARCHITECTURE.md "On-disk format" and the Go tool's
behaviour it records), independently of the C++ engine, and cross-checked against the repositories
the Go tool wrote in tests/fixtures/ (tests/oracle/test_oracle.py). The C++ unit tests and the
pytest suites compare what libjvs computes with what this module computes.

Three algorithms:
- payload_root_hash: one line "<type>:<rel>:<meta>:<sha256>" per entry below the root (lstat, never
  following links; entries named ".READY" skipped at any depth, though a directory of that name is
  still descended into), lines sorted bytewise, each followed by "\\n", SHA-256 of the whole.
  dir: meta "mode=%04o", hash of the base name; symlink: "mode=%04o", hash of the link target;
  anything else: "mode=%04o,size=%d", hash of the content.
- descriptor_checksum: SHA-256 of the canonical JSON (keys sorted bytewise, no whitespace, Go's
  string escaping) of the descriptor with descriptor_checksum and integrity_state set to "" (zeroed,
  not removed), the omitempty fields (note, tags, partial_paths) left out when empty, and parent_id
  and compression (Go pointers) left out only when absent or null.
- audit record_hash: SHA-256 of the canonical JSON of the record with record_hash set to "".

Command line (used by the C++ unit tests; paths may hold any bytes):
    jvs_oracle.py payload DIR      the sorted hash input lines, then the hash
    jvs_oracle.py desc FILE        the canonical checksum input, then the checksum
    jvs_oracle.py audit FILE       one "<line number> <recomputed record_hash> <ok|BAD>" per record

inflated_payload_root_hash (a function, no command) rebuilds the hash of a snapshot the Go tool
compressed, given what its compression lost (which *.gz files were the user's, the lost modes).
"""
from __future__ import annotations

import decimal
import hashlib
import json
import math
import os
import stat
import sys
from typing import Any, Dict, List, Tuple

# ---- Go's encoding/json, as CanonicalMarshal uses it -------------------------------------------

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def go_string(s: str) -> str:
    """A JSON string as Go >= 1.22 writes it: HTML-safe, U+2028/9 escaped, lowercase \\u00XX."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20 or ch in "<>&" or code in (0x2028, 0x2029):
            out.append("\\u%04x" % code)
        elif 0xD800 <= code <= 0xDFFF:  # a surrogate stands for invalid UTF-8: Go writes U+FFFD
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_number(v: float) -> str:
    """Go's float64 encoding: shortest 'f' form in [1e-6, 1e21), exponent form outside."""
    if v == 0:
        return "0"
    if 1e-6 <= abs(v) < 1e21:
        # shortest round-trip digits (repr), written out without an exponent
        text = format(decimal.Decimal(repr(float(v))), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mantissa, exp = ("%r" % float(v)).lower().split("e")
    mantissa = mantissa[:-2] if mantissa.endswith(".0") else mantissa
    sign = "-" if int(exp) < 0 else "+"
    return "%se%s%02d" % (mantissa, sign, abs(int(exp)))


def canonical(v: Any) -> str:
    """pkg/jsonutil.CanonicalMarshal: keys in byte order, no whitespace, numbers as float64."""
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-8", "surrogatepass"))
        return "{" + ",".join(go_string(k) + ":" + canonical(v[k]) for k in keys) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError("Go cannot encode %r" % v)
        return go_number(f)
    return go_string(str(v))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- descriptor_checksum and audit record_hash ------------------------------------------------

_OMITEMPTY = ("note", "tags", "partial_paths")


def descriptor_checksum(desc: Dict[str, Any]) -> Tuple[str, bytes]:
    """(checksum, the canonical bytes it hashes) of a parsed descriptor."""
    body: Dict[str, Any] = {
        "snapshot_id": desc["snapshot_id"],
        "worktree_name": desc.get("worktree_name", ""),
        "created_at": desc["created_at"],
        "engine": desc.get("engine", ""),
        "payload_root_hash": desc.get("payload_root_hash", ""),
        "descriptor_checksum": "",
        "integrity_state": "",
    }
    if desc.get("parent_id") is not None:  # a Go *string: present when set, even to ""
        body["parent_id"] = desc["parent_id"]
    for key in _OMITEMPTY:
        if desc.get(key):
            body[key] = desc[key]
    if desc.get("compression") is not None:
        body["compression"] = desc["compression"]
    data = canonical(body).encode("utf-8")
    return sha256_hex(data), data


def audit_record_hash(record: Dict[str, Any]) -> str:
    body = dict(record)
    body["record_hash"] = ""
    if not body.get("details"):
        body.pop("details", None)
    for key in ("snapshot_id", "worktree_name"):
        if not body.get(key):
            body.pop(key, None)
    return sha256_hex(canonical(body).encode("utf-8"))


def check_audit_chain(path: str) -> List[Tuple[int, str, bool]]:
    """(line number, recomputed hash, ok) per record: ok when the hash recomputes and links to the previous."""
    out = []
    prev = ""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            rec = json.loads(raw)
            h = audit_record_hash(rec)
            out.append((n, h, h == rec.get("record_hash") and rec.get("prev_hash", "") == prev))
            prev = rec.get("record_hash", "")
    return out


# ---- payload_root_hash --------------------------------------------------------------------------

def payload_lines(root: bytes) -> List[bytes]:
    lines: List[bytes] = []

    def walk(directory: bytes, rel: bytes) -> None:
        for name in sorted(os.listdir(directory)):  # bytes: byte order, as Go's filepath.Walk
            path = os.path.join(directory, name)
            child = rel + b"/" + name if rel else name
            st = os.lstat(path)
            is_dir = stat.S_ISDIR(st.st_mode)
            if name != b".READY":
                lines.append(_line(path, child, name, st))
            if is_dir:
                walk(path, child)

    walk(root, b"")
    lines.sort()
    return lines


def _line(path: bytes, rel: bytes, name: bytes, st: os.stat_result) -> bytes:
    perm = st.st_mode & 0o777
    if stat.S_ISDIR(st.st_mode):
        kind, meta, digest = b"dir", b"mode=%04o" % perm, sha256_hex(name)
    elif stat.S_ISLNK(st.st_mode):
        kind, meta, digest = b"symlink", b"mode=%04o" % perm, sha256_hex(os.readlink(path))
    else:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        kind, meta, digest = b"file", b"mode=%04o,size=%d" % (perm, st.st_size), h.hexdigest()
    return b":".join([kind, rel, meta, digest.encode()])


def payload_root_hash(root: "str | bytes") -> Tuple[str, bytes]:
    """(hash, the exact bytes it hashes) of the tree at root."""
    blob = b"".join(line + b"\n" for line in payload_lines(os.fsencode(root)))
    return sha256_hex(blob), blob


def inflated_payload_root_hash(snapshot: str, own_gz: "set[str]", modes: Dict[str, int],
                               default_mode: int = 0o644) -> str:
    """payload_root_hash of the tree a snapshot the Go tool compressed (snapshot --compress) held
    before compression, given what the compression lost and this oracle cannot know: which `*.gz`
    files were the user's own (`own_gz`, relative paths, kept as they are) and the modes of the others
    (`modes` by their uncompressed relative path, else `default_mode`). Every other `<name>.gz` file
    is inflated as `<name>`; directories are hashed as they are; the top-level `.READY.gz` is the marker.
    Independent of libjvs: the lines are built from the inflated bytes directly."""
    import gzip
    root = os.fsencode(snapshot)
    lines: List[bytes] = []

    def walk(directory: bytes, rel: bytes) -> None:
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            r = rel + b"/" + name if rel else name
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                if name != b".READY":
                    lines.append(_line(path, r, name, st))
                walk(path, r)
            elif name.endswith(b".gz") and os.fsdecode(r) not in own_gz:
                if r == b".READY.gz":
                    continue
                plain_rel, plain_name = r[:-3], name[:-3]
                if plain_name == b".READY":
                    continue
                with open(path, "rb") as f:
                    data = gzip.decompress(f.read())
                mode = modes.get(os.fsdecode(plain_rel), default_mode)
                lines.append(b"file:%s:mode=%04o,size=%d:%s" % (plain_rel, mode, len(data), sha256_hex(data).encode()))
            elif name != b".READY":
                lines.append(_line(path, r, name, st))

    walk(root, b"")
    return sha256_hex(b"".join(line + b"\n" for line in sorted(lines)))


# ---- command line -------------------------------------------------------------------------------

def main(argv: List[str]) -> int:
    out = sys.stdout.buffer
    if len(argv) == 3 and argv[1] == "payload":
        h, blob = payload_root_hash(os.fsencode(argv[2]))
        out.write(blob + h.encode() + b"\n")
    elif len(argv) == 3 and argv[1] == "desc":
        with open(argv[2], "rb") as f:
            h, data = descriptor_checksum(json.load(f))
        out.write(data + b"\n" + h.encode() + b"\n")
    elif len(argv) == 3 and argv[1] == "audit":
        for n, h, ok in check_audit_chain(argv[2]):
            out.write(b"%d %s %s\n" % (n, h.encode(), b"ok" if ok else b"BAD"))
    else:
        sys.stderr.write(__doc__ or "")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
