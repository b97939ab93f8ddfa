"""Crafted repository metadata, one path field at a time (issue 8, item 2): every checksum jvs could
check is recomputed (crafting.py), so only the validation of what is read back catches the edit.
Each crafted snapshot must be reported by `verify --all` (E_PATH_UNSAFE) and `doctor --strict`
(finding path_unsafe), refused by restore, fork and diff with that code, and nothing outside the
repository may be created, changed, removed or read (the canary, conftest.py)."""
import json
import os

import pytest

import crafting  # tests/library/crafting.py
from libjvs_driver import JvsError, snap


@pytest.fixture
def setup(lib, tmp_path, canary):
    """A repository with a partial and a full snapshot; the canary beside it is `../../outside` from
    the worktree. Afterwards nothing outside was touched or read."""
    r, _ = lib.open(tmp_path / "r", init=True)
    root = tmp_path / "r"
    main = root / "main"
    (main / "d").mkdir()
    (main / "d" / "f.txt").write_text("in d\n")
    (main / "top.txt").write_text("top\n")
    full = snap(r, note="full")
    part = snap(r, note="part", paths=["d"])
    try:
        yield r, root, full, part, canary.root
        assert not canary.escapes(root)
    finally:
        r.close()


def assert_refused_everywhere(r, root, sid):
    """verify, doctor, restore, fork, diff: reported or refused with E_PATH_UNSAFE."""
    v = r.call("verify", all=True)
    codes = {x["snapshot_id"]: x.get("code") for x in v["results"]}
    assert not v["ok"] and codes[sid] == "E_PATH_UNSAFE", v
    doc = r.call("doctor", strict=True)
    unsafe = [f for f in doc["findings"] if f["code"] == "path_unsafe"]
    assert unsafe and not doc["healthy"] and all(f["error_code"] == "E_PATH_UNSAFE" for f in unsafe), doc
    for method, opts in (("restore", {"ref": sid}), ("restore", {"ref": sid, "dry_run": True}),
                         ("worktree_fork", {"from": sid, "name": "f"}), ("diff", {"from": sid}),
                         ("worktree_create", {"from": sid, "name": "c"})):
        with pytest.raises(JvsError) as e:
            r.call(method, **opts)
        assert e.value.code == "E_PATH_UNSAFE", (method, e.value.doc)
        assert e.value.doc["error"]["hint"]
    r.call("doctor", repair=True)
    assert not (root / "worktrees" / "f").exists() and not (root / "worktrees" / "c").exists()


@pytest.mark.parametrize("bad", ["../../outside", "/tmp", "d/../../../outside", "d//f.txt", "./d", "", "d/./f.txt",
                                 "d/\u0000", "x" * 256])
def test_partial_paths(setup, bad):
    """The reproduction of issue 8 item 2: a descriptor whose partial_paths lead outside."""
    r, root, full, part, victim = setup
    crafting.edit_descriptor(root, part, partial_paths=[bad])
    assert_refused_everywhere(r, root, part)
    assert part not in [d["snapshot_id"] for d in r.call("history", all=True)["snapshots"]]
    r.call("restore", ref=full)  # the other snapshots are untouched
    assert (root / "main" / "top.txt").read_text() == "top\n"


@pytest.mark.parametrize("field,value", [("parent_id", "../../outside"), ("parent_id", "1700000000000-deadbeef/.."),
                                         ("worktree_name", "../../outside"), ("worktree_name", "a/b")])
def test_ids_and_names_in_descriptors(setup, field, value):
    r, root, full, part, victim = setup
    crafting.edit_descriptor(root, part, **{field: value})
    assert_refused_everywhere(r, root, part)


def test_a_descriptor_filed_under_another_id(setup):
    r, root, full, part, victim = setup
    d = crafting.load_descriptor(root, full)
    crafting.descriptor_path(root, part).write_text(json.dumps(d, indent=2))
    with pytest.raises(JvsError) as e:
        r.call("restore", ref=part)
    assert e.value.code == "E_DESCRIPTOR_CORRUPT"
    assert {x["snapshot_id"]: x.get("code") for x in r.call("verify")["results"]}[part] == "E_DESCRIPTOR_CORRUPT"


def manifest_entry(t, rel, h, perm=0o644, size=0):
    return (t, perm, size, 0, h, rel.encode() if isinstance(rel, str) else rel)


@pytest.mark.parametrize("evil", ["../../evil.txt", "/tmp/jvs-evil-abs", "d/../../../evil.txt", "d//x", "d/./x", ".."])
def test_manifest_entries(setup, evil):
    """A manifest the descriptor vouches for (payload_root_hash recomputed) naming a path outside:
    restore would create it. It is refused and reported instead."""
    r, root, full, part, victim = setup
    entries = crafting.read_manifest(root, full)
    entries.append(manifest_entry("f", evil, crafting.sha256(b"evil\n"), size=5))
    crafting.write_manifest_trusted(root, full, entries)
    assert_refused_everywhere(r, root, full)
    assert not (root.parent / "evil.txt").exists() and not os.path.exists("/tmp/jvs-evil-abs")


@pytest.mark.parametrize("in_path_order", [False, True])
def test_a_manifest_entry_below_a_symlink(setup, in_path_order):
    """`lnk` -> the victim, then `lnk/evil.txt`: lexically fine, but it lies under a symlink. Appended
    (out of order), or sorted in as jvs writes manifests (checked without path sets)."""
    r, root, full, part, victim = setup
    entries = crafting.read_manifest(root, full)
    entries.append(manifest_entry("l", "lnk", crafting.sha256(str(victim)), perm=0o777))
    entries.append(manifest_entry("f", "lnk/evil.txt", crafting.sha256(b"evil\n"), size=5))
    if in_path_order:
        entries.sort(key=lambda e: e[5].split(b"/"))
    crafting.write_manifest_trusted(root, full, entries)
    assert_refused_everywhere(r, root, full)


@pytest.mark.parametrize("evil", ["top.txt/evil.txt", "nodir/evil.txt", "d/f.txt/evil.txt"])
def test_a_manifest_in_path_order_with_an_entry_under_no_listed_directory(setup, evil):
    """Sorted in path order, as jvs writes manifests: an entry below a file or below a directory the
    manifest does not list is refused as when the entries come in any other order."""
    r, root, full, part, victim = setup
    entries = crafting.read_manifest(root, full)
    entries.append(manifest_entry("f", evil, crafting.sha256(b"evil\n"), size=5))
    entries.sort(key=lambda e: e[5].split(b"/"))
    crafting.write_manifest_trusted(root, full, entries)
    assert_refused_everywhere(r, root, full)


def test_an_unsafe_manifest_is_rebuilt_by_doctor_when_the_snapshot_itself_is_whole(setup):
    """The manifest is derived data: with a manifest naming `../x` but a descriptor and files that
    agree with each other, doctor rebuilds the manifest from the files and the snapshot works again."""
    r, root, full, part, victim = setup
    m = crafting.manifest_path(root, full)
    entries = crafting.read_manifest(root, full)
    m.write_bytes(crafting.encode_records("jvs-manifest 1", entries + [manifest_entry("f", "../x", "0" * 64)]))
    with pytest.raises(JvsError) as e:
        r.call("restore", ref=full)
    assert e.value.code == "E_PATH_UNSAFE"
    doc = r.call("doctor", repair=True)
    [f] = [f for f in doc["findings"] if f["code"] == "path_unsafe"]
    assert f["repair"] == "rebuild_manifest" and f["repaired"] is True
    r.call("restore", ref=full)
    assert r.call("verify", all=True)["ok"]


@pytest.mark.parametrize("field,value,code", [
    ("name", "../../outside", "E_PATH_UNSAFE"), ("name", "other", "E_CONFIG_CORRUPT"),
    ("head_snapshot_id", "../../outside", "E_PATH_UNSAFE"), ("latest_snapshot_id", "/tmp", "E_PATH_UNSAFE"),
    ("base_snapshot_id", "1700000000000-deadbeef/../x", "E_PATH_UNSAFE")])
def test_worktree_configs(setup, field, value, code):
    """The config's name builds the payload path a snapshot reads and a restore writes: a crafted one
    would redirect both. Every operation on the worktree refuses it."""
    r, root, full, part, victim = setup
    cfg = root / ".jvs" / "worktrees" / "main" / "config.json"
    j = json.loads(cfg.read_text())
    j[field] = value
    cfg.write_text(json.dumps(j, indent=2))
    for method, opts in (("snapshot", {}), ("restore", {"ref": full}), ("history", {}), ("diff", {}),
                         ("worktree_fork", {"name": "f"})):
        with pytest.raises(JvsError) as e:
            r.call(method, **opts)
        assert e.value.code == code, (method, e.value.doc)
    doc = r.call("doctor")
    assert not doc["healthy"] and {"path_unsafe", "worktree_config_corrupt"} & {f["code"] for f in doc["findings"]}
    with pytest.raises(JvsError):
        r.call("gc_plan", keep_min_age="0")  # a worktree gc cannot read stops gc rather than guessing


def test_intents(setup):
    r, root, full, part, victim = setup
    intent = root / ".jvs" / "intents" / "1700000000000-deadbeef.json"
    intent.write_text(json.dumps({"snapshot_id": "1700000000000-deadbeef", "worktree_name": "../../outside"}))
    (root / ".jvs" / "intents" / "not-an-id.json").write_text("{}")
    doc = r.call("doctor", repair=True)
    unsafe = [f for f in doc["findings"] if f["code"] == "path_unsafe"]
    assert len(unsafe) == 2 and not any(f.get("repair") for f in unsafe)
    assert intent.exists()


def test_stat_cache_entries(setup):
    """A stat cache is only an accelerator: one naming an unsafe path is dropped whole (the snapshot
    reads every file) and doctor --strict says so."""
    r, root, full, part, victim = setup
    cache = root / ".jvs" / "cache" / "main.stat"
    header, recs = crafting.decode_records(cache.read_bytes())
    recs.append([b"../../outside/secret"] + recs[0][1:])
    cache.write_bytes(crafting.encode_records(header, recs))
    doc = r.call("doctor", strict=True)
    [f] = [f for f in doc["findings"] if f["code"] == "stat_cache_invalid"]
    assert "unsafe" in f["message"] and f["repair"] == "remove_stat_cache"
    (root / "main" / "top.txt").write_text("top 2\n")
    s = r.call("snapshot")
    assert s["stats"]["files_hashed"] == s["stats"]["files"]  # nothing trusted from the dropped cache
    assert r.call("verify", all=True)["ok"]


def test_gc_plan_naming_a_path(setup):
    r, root, full, part, victim = setup
    plan = r.call("gc_plan", keep_min_age="0")
    path = root / ".jvs" / "gc" / f"{plan['plan_id']}.json"
    crafting.refingerprint_plan(path, to_delete=["../../outside"], orphans=["../../outside"])
    with pytest.raises(JvsError) as e:
        r.call("gc_run", plan_id=plan["plan_id"])
    assert e.value.code == "E_GC_PLAN_MISMATCH"


def test_pins_leases_and_claims_that_name_no_snapshot_or_worktree(setup):
    r, root, full, part, victim = setup
    pins = root / ".jvs" / "pins"
    pins.mkdir()
    (pins / "evil.json").write_text(json.dumps({"snapshot_id": "../../outside", "pinned_at": "2026-01-01T00:00:00Z"}))
    locks = root / ".jvs" / "locks"
    (locks / "use-notanid-1-2.lock").write_text("{}")
    (locks / "claim-1-2-...lock").write_text("{}")
    assert r.call("gc_pins")["pins"] == []
    plan = r.call("gc_plan", keep_min_age="0")
    assert all(p["snapshot_id"] != "../../outside" for p in plan["protected"])
    doc = r.call("doctor", repair=True)
    assert doc["healthy"]
    assert (root / "worktrees").is_dir()
