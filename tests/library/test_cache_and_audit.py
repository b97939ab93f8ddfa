"""The stat cache cannot change what a snapshot stores (issue 8, item 5), and the audit chain's tip is
anchored outside the log (item 9): truncating, emptying or deleting audit.jsonl, deleting its last
record or editing a descriptor's integrity_state is detected by `verify --all` and `doctor --strict`;
records the Go tool appends after the anchor are not."""
import json
import os
import time

import pytest

import crafting
from libjvs_driver import snap

CACHE = "jvs-stat-cache 2"  # then " h<host tag>": a cache is trusted only on the host that wrote it


@pytest.fixture
def cached(repo):
    """A snapshot of f.txt (v1), then f.txt rewritten with content of the same size and its mtime put
    back: only the ctime says it changed. Returns the cache record of f.txt as the snapshot wrote it."""
    r, root = repo
    f = root / "main" / "f.txt"
    f.write_text("version 1\n")
    (root / "main" / "other.txt").write_text("other\n")
    old = os.stat(f)
    first = snap(r, note="v1")
    time.sleep(0.02)
    f.write_text("version 2\n")
    os.utime(f, ns=(old.st_atime_ns, old.st_mtime_ns))
    cache = root / ".jvs" / "cache" / "main.stat"
    header, recs = crafting.decode_records(cache.read_bytes())
    assert header.startswith(CACHE + " ")
    return r, root, f, first, cache, (header, recs)


def poison(cache, header_recs, f, recompute_checksum, keep_old_ctime=False):
    """Rewrites f.txt's entry with the file's current stat and the old content hash."""
    header, recs = header_recs
    st = os.stat(f)
    out = []
    for rec in recs:
        if rec[0] == b"f.txt":
            ctime = rec[5] if keep_old_ctime else str(st.st_ctime_ns).encode()
            rec = [rec[0], str(st.st_dev).encode(), str(st.st_ino).encode(), str(st.st_size).encode(),
                   str(st.st_mtime_ns).encode(), ctime, str(st.st_mode).encode(), rec[7]]
        out.append(rec)
    time.sleep(0.02)  # the cache file must be younger than the entries (racy-clean rule)
    data = crafting.encode_records(header, out)
    if not recompute_checksum:  # an editor that does not know the trailer: it keeps the old one
        old = cache.read_bytes()
        data = data[:data.rindex(b"END ")] + old[old.rindex(b"END "):]
    cache.write_bytes(data)


def stored(root, sid, rel):
    return (root / ".jvs" / "snapshots" / sid / rel).read_text()


def test_a_poisoned_entry_fails_the_checksum_and_the_next_snapshot_stores_the_right_content(cached):
    r, root, f, first, cache, recs = cached
    poison(cache, recs, f, recompute_checksum=False)
    doc = r.call("doctor", strict=True)
    assert "stat_cache_invalid" in {x["code"] for x in doc["findings"]}
    sid = snap(r, note="v2")
    assert stored(root, sid, "f.txt") == "version 2\n"
    assert r.call("verify", all=True)["ok"]


def test_an_entry_is_used_only_with_the_ctime_it_was_written_with(cached):
    r, root, f, first, cache, recs = cached
    poison(cache, recs, f, recompute_checksum=True, keep_old_ctime=True)  # a valid file, the old ctime
    sid = snap(r, note="v2")
    assert stored(root, sid, "f.txt") == "version 2\n"


@pytest.mark.parametrize("mode", ["sample", "all"])
def test_a_poisoned_entry_with_a_valid_checksum_is_found_by_doctor_strict_and_dropped(cached, mode):
    """An attacker who also recomputes the checksum: doctor --strict hashes the files the cache
    vouches for, reports the poisoned entry and its repair drops the cache, after which the snapshot
    stores the right content."""
    r, root, f, first, cache, recs = cached
    poison(cache, recs, f, recompute_checksum=True)
    assert r.call("doctor", strict=True, cache_check="none")["healthy"]  # not checked: not found
    doc = r.call("doctor", strict=True, cache_check=mode)
    [x] = [x for x in doc["findings"] if x["code"] == "stat_cache_poisoned"]
    assert x["severity"] == "error" and "f.txt" in x["message"] and not doc["healthy"]
    rep = r.call("doctor", strict=True, repair=True, cache_check=mode)
    assert [(y["id"], y["done"]) for y in rep["repairs"]] == [("remove_stat_cache", True)]
    assert not cache.exists() and rep["healthy"]
    sid = snap(r, note="v2")
    assert stored(root, sid, "f.txt") == "version 2\n"
    assert r.call("doctor", strict=True, cache_check="all")["healthy"]


def test_cache_check_rejects_other_values(repo):
    r, _ = repo
    from libjvs_driver import JvsError
    with pytest.raises(JvsError) as e:
        r.call("doctor", strict=True, cache_check="some")
    assert e.value.code == "E_OPTION_INVALID"


# ---- the audit anchor ---------------------------------------------------------------------------

@pytest.fixture
def logged(repo):
    r, root = repo
    for i in range(3):
        (root / "main" / "f.txt").write_text(f"{i}\n")
        snap(r, note=f"s{i}")
    log = root / ".jvs" / "audit" / "audit.jsonl"
    anchor = root / ".jvs" / "audit_anchor.json"
    a = json.loads(anchor.read_text())
    lines = log.read_bytes().splitlines(keepends=True)
    assert a["offset"] == log.stat().st_size and a["record_hash"] == json.loads(lines[-1])["record_hash"]
    return r, root, log, anchor, lines


def assert_detected(r, why):
    v = r.call("verify", all=True)
    assert not v["ok"] and v["audit"]["code"] == "E_AUDIT_CHAIN_BROKEN" and why in v["audit"]["error"], v["audit"]
    doc = r.call("doctor", strict=True)
    [f] = [f for f in doc["findings"] if f["code"] == "audit_chain_broken"]
    assert f["error_code"] == "E_AUDIT_CHAIN_BROKEN" and not doc["healthy"]


def test_deleting_the_last_record_is_detected(logged):
    r, root, log, anchor, lines = logged
    log.write_bytes(b"".join(lines[:-1]))
    assert_detected(r, "truncated")


def test_truncating_the_log_is_detected(logged):
    r, root, log, anchor, lines = logged
    log.write_bytes(b"".join(lines[:1]))
    assert_detected(r, "truncated")


def test_emptying_the_log_is_detected(logged):
    r, root, log, anchor, lines = logged
    log.write_bytes(b"")
    assert_detected(r, "truncated")


def test_deleting_the_log_is_detected(logged):
    r, root, log, anchor, lines = logged
    log.unlink()
    assert_detected(r, "missing")


def test_deleting_the_log_and_its_anchor_is_detected_while_jvs_records_remain(logged):
    r, root, log, anchor, lines = logged
    log.write_bytes(b"".join(lines[:-1]))
    anchor.unlink()
    assert_detected(r, "anchor")


def test_an_edited_anchor_is_detected(logged):
    r, root, log, anchor, lines = logged
    anchor.write_text('{"offset":1,"record_hash":"x"}')
    assert_detected(r, "anchor")
    a = {"offset": len(lines[0]), "record_hash": "0" * 64}
    anchor.write_text(json.dumps(a))
    assert_detected(r, "diverges")


def go_record(prev_hash, event, **fields):
    """A record as the Go tool appends it (it knows nothing of the anchor)."""
    rec = {"timestamp": "2026-12-01T00:00:00Z", "event_type": event, **fields, "prev_hash": prev_hash,
           "record_hash": ""}
    rec["record_hash"] = crafting.sha256(crafting.go_canonical(rec))
    return (json.dumps(rec, separators=(",", ":")) + "\n").encode()


def test_records_the_go_tool_appended_after_the_anchor_are_not_tampering(logged):
    r, root, log, anchor, lines = logged
    last = json.loads(lines[-1])["record_hash"]
    rec = go_record(last, "worktree_remove", worktree_name="x", details={"head_snapshot_id": ""})
    with open(log, "ab") as f:
        f.write(rec)
    v = r.call("verify", all=True)
    assert v["ok"] and v["audit"]["records"] == 4, v["audit"]
    (root / "main" / "f.txt").write_text("after go\n")
    snap(r, note="after go")  # jvs appends after the Go record and anchors the new tip
    v = r.call("verify", all=True)
    assert v["ok"] and v["audit"]["records"] == 5
    assert json.loads(anchor.read_text())["offset"] == log.stat().st_size


@pytest.mark.parametrize("state", ["tampered", "unknown", "", "Verified"])
def test_an_edited_integrity_state_is_detected(repo, state):
    """integrity_state lies outside the descriptor checksum; both tools write "verified" and never
    change it, so any other value was written by hand. No decision of jvs reads it."""
    r, root = repo
    (root / "main" / "f.txt").write_text("x\n")
    sid = snap(r)
    p = root / ".jvs" / "descriptors" / f"{sid}.json"
    d = json.loads(p.read_text())
    d["integrity_state"] = state
    p.write_text(json.dumps(d, indent=2))
    v = r.call("verify", all=True)
    assert not v["ok"] and v["results"][0]["code"] == "E_DESCRIPTOR_CORRUPT" and "integrity_state" in v["results"][0]["error"]
    doc = r.call("doctor", strict=True)
    assert "snapshot_invalid" in {f["code"] for f in doc["findings"]} and not doc["healthy"]
    r.call("restore", ref=sid, dry_run=True)  # nothing decides by it: the snapshot still restores
