"""Crafting repository metadata as an attacker would: edit a descriptor, manifest, stat cache or gc
plan and recompute every checksum jvs could check (descriptor_checksum, .READY, payload_root_hash,
the record files' trailer, the plan fingerprint), so that only the validation under test can catch
the edit. The formats are the Go tool's (UPSTREAM_FACTS) and ours (docs/ARCHITECTURE.md)."""
import hashlib
import json
import os
import struct
import zlib


def sha256(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def go_canonical(obj):
    """jvs's CanonicalMarshal for the ASCII/UTF-8 values these tests use (no <, >, & to escape)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def descriptor_path(root, sid):
    return root / ".jvs" / "descriptors" / f"{sid}.json"


def load_descriptor(root, sid):
    return json.loads(descriptor_path(root, sid).read_text())


def descriptor_checksum(d):
    zeroed = dict(d, descriptor_checksum="", integrity_state="")
    return sha256(go_canonical(zeroed))


def write_descriptor(root, sid, d):
    """Recomputes the checksum, writes the descriptor as Go's MarshalIndent would and rewrites the
    snapshot's .READY marker to match (its completed_at kept)."""
    d = dict(d)
    d["descriptor_checksum"] = descriptor_checksum(d)
    descriptor_path(root, sid).write_text(json.dumps(d, indent=2, ensure_ascii=False))
    ready_path = root / ".jvs" / "snapshots" / sid / ".READY"
    old = json.loads(ready_path.read_text())
    ready = {"snapshot_id": d["snapshot_id"], "completed_at": old["completed_at"],
             "payload_root_hash": d["payload_root_hash"], "engine": d["engine"],
             "descriptor_checksum": d["descriptor_checksum"]}
    mode = os.stat(ready_path).st_mode & 0o7777
    os.chmod(ready_path, 0o644)
    ready_path.write_text(json.dumps(ready, separators=(",", ":"), ensure_ascii=False))
    os.chmod(ready_path, mode)
    return d


def edit_descriptor(root, sid, **fields):
    d = load_descriptor(root, sid)
    d.update(fields)
    return write_descriptor(root, sid, d)


# ---- the Go tool's `snapshot --compress` (UPSTREAM_FACTS 5.4) ---------------------------------------

def go_gzip(data, level=6):
    """gzip bytes as Go's compress/gzip writes them: no name, mtime 0, OS 255 (Python's gzip module
    writes OS 3 with mtime 0)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    xfl = 2 if level == 9 else 4 if level == 1 else 0
    return bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, xfl, 0xFF]) + body + struct.pack("<II", zlib.crc32(data), len(data))


def go_compress(root, sid, level=6):
    """What the Go tool's `snapshot --compress` does to a published snapshot: every non-directory not
    ending in .gz, in filepath.Walk order, becomes <name>.gz (mode 0600; a symlink becomes a file of its
    target's content), .READY included; the descriptor records the compression (checksummed with it, as
    Go computed the checksum after setting it). jvs's manifest of the snapshot goes (Go writes none)."""
    d = load_descriptor(root, sid)
    d["compression"] = {"type": "gzip", "level": level}
    write_descriptor(root, sid, d)
    (root / ".jvs" / "manifests" / sid).unlink(missing_ok=True)

    def walk(directory):
        for n in sorted(os.listdir(directory)):
            p = os.path.join(directory, n)
            if os.path.isdir(p) and not os.path.islink(p):
                walk(p)
            elif not n.endswith(".gz"):
                with open(p, "rb") as f:  # follows a symlink, as Go's os.ReadFile does
                    data = f.read()
                with open(p + ".gz", "wb") as f:
                    f.write(go_gzip(data, level))
                os.chmod(p + ".gz", 0o600)
                os.unlink(p)

    walk(str(root / ".jvs" / "snapshots" / sid))


# ---- record files (manifests, stat caches) ---------------------------------------------------------

def encode_records(header, records):
    body = header.encode() + b"\n"
    for rec in records:
        for field in rec:
            body += (field if isinstance(field, bytes) else str(field).encode()) + b"\0"
        body += b"\0"
    return body + b"END " + sha256(body).encode() + b"\n"


def decode_records(data):
    header, _, rest = data.partition(b"\n")
    body = rest[:rest.rindex(b"END ")]
    records, cur = [], []
    for field in body.split(b"\0")[:-1]:
        if field == b"":
            records.append(cur)
            cur = []
        else:
            cur.append(field)
    return header.decode(), records


def manifest_path(root, sid):
    return root / ".jvs" / "manifests" / sid


def read_manifest(root, sid):
    """[(type, perm, size, mtime_ns, hash, rel)] with ints for the numbers and bytes for rel."""
    _, recs = decode_records(manifest_path(root, sid).read_bytes())
    return [(r[0].decode(), int(r[1]), int(r[2]), int(r[3]), r[4].decode(), r[5]) for r in recs]


def payload_root_hash(entries):
    """The Go tool's payload_root_hash of manifest entries (UPSTREAM_FACTS section 4)."""
    names = {"d": b"dir", "f": b"file", "l": b"symlink"}
    lines = []
    for t, perm, size, _mtime, h, rel in entries:
        if rel.rsplit(b"/", 1)[-1] == b".READY":
            continue
        meta = b"mode=%04o" % (perm & 0o777) + (b",size=%d" % size if t == "f" else b"")
        lines.append(names[t] + b":" + rel + b":" + meta + b":" + h.encode())
    return sha256(b"".join(line + b"\n" for line in sorted(lines)))


def write_manifest_trusted(root, sid, entries):
    """Writes a manifest and makes the descriptor vouch for it (payload_root_hash, checksum, .READY
    recomputed), so jvs trusts it as the snapshot's own."""
    manifest_path(root, sid).write_bytes(encode_records("jvs-manifest 1", [
        (t, perm, size, mtime, h, rel) for t, perm, size, mtime, h, rel in entries]))
    return edit_descriptor(root, sid, payload_root_hash=payload_root_hash(entries))


# ---- gc plans --------------------------------------------------------------------------------------

def refingerprint_plan(path, **fields):
    plan = json.loads(path.read_text())
    plan.update(fields)
    plan["fingerprint"] = sha256(go_canonical({"protected": plan.get("protected_set") or [],
                                               "candidates": plan.get("to_delete") or []}))
    path.write_text(json.dumps(plan, indent=2))
    return plan
