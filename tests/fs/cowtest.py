"""Helpers of the real-filesystem suites (a unique module name: never clashes with other conftests)."""
import hashlib
import json
import os
import random
import stat
import tempfile

ENGINES = ("copy", "reflink-copy", "juicefs-clone")
FALLBACK_KINDS = ("reflink_fallback", "clone_fallback")


def new_repo(lib, parent, prefix="repo-"):
    """A fresh repository in a new directory under `parent`: (repo handle, repo root, main payload)."""
    d = tempfile.mkdtemp(prefix=prefix, dir=parent)
    root = os.path.join(d, "r")
    repo, _ = lib.open(root, init=True)
    return repo, root, os.path.join(root, "main")


def populate(main, seed=1, n_files=120):
    """A few MB of random data: n_files files of 16-64 KiB (big enough to have real extents on btrfs,
    which inlines tiny files), nested three levels, plus small and empty files, an executable, a
    relative symlink and a dangling one. Returns the relative paths of the files that hold data."""
    rng = random.Random(seed)
    data_files = []
    for i in range(n_files):
        d = os.path.join(f"d{i % 4}", f"s{i % 3}", f"t{i % 2}") if i % 5 else f"d{i % 4}"
        os.makedirs(os.path.join(main, d), exist_ok=True)
        rel = os.path.join(d, f"f{i:03d}.bin")
        with open(os.path.join(main, rel), "wb") as f:
            f.write(rng.randbytes(rng.randint(16 << 10, 64 << 10)))
        data_files.append(rel)
    with open(os.path.join(main, "big.bin"), "wb") as f:  # one multi-extent-sized file
        f.write(rng.randbytes(1 << 20))
    data_files.append("big.bin")
    with open(os.path.join(main, "small.txt"), "w") as f:
        f.write("small\n")
    open(os.path.join(main, "empty"), "wb").close()
    with open(os.path.join(main, "run.sh"), "w") as f:
        f.write("#!/bin/sh\necho hi\n" + "#" * 20000 + "\n")
    os.chmod(os.path.join(main, "run.sh"), 0o755)
    data_files.append("run.sh")
    os.symlink("d0/f000.bin", os.path.join(main, "link-to-f000"))
    os.symlink("does/not/exist", os.path.join(main, "dangling"))
    return sorted(data_files)


def rewrite(main, rels, seed):
    """New random content (same size) in each of rels."""
    rng = random.Random(seed)
    for rel in rels:
        p = os.path.join(main, rel)
        size = os.path.getsize(p)
        with open(p, "wb") as f:
            f.write(rng.randbytes(size))


def one_percent(data_files, seed=7):
    n = max(1, round(len(data_files) / 100))
    return sorted(random.Random(seed).sample(data_files, n))


def tree(root):
    """{relpath: (type, permission bits, content sha256 | link target)}; the top-level `.READY` is skipped
    (a snapshot directory carries one, a worktree does not)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if rel == ".READY":
                continue
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode), "")
            else:
                with open(p, "rb") as f:
                    out[rel] = ("f", stat.S_IMODE(st.st_mode), hashlib.sha256(f.read()).hexdigest())
    return out


def fs_state(root):
    """Everything observable under root that a write would change: every entry's type, mode, size,
    mtime (directories too, so a probe file created and removed again still shows) and content.
    Inside `.jvs/locks/` only the names count (a lock file's content names its last holder)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        in_locks = rel_dir.split(os.sep)[-2:] == [".jvs", "locks"]
        st = os.lstat(dirpath)
        out[rel_dir] = ("d", st.st_mode, None if in_locks else st.st_mtime_ns)
        for n in filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if in_locks:
                out[rel] = ("lock",)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(p), st.st_mtime_ns)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("f", st.st_mode, st.st_size, st.st_mtime_ns, hashlib.sha256(f.read()).hexdigest())
        for n in dirnames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                out[os.path.relpath(p, root)] = ("l", os.readlink(p))
    return out


def diff_states(before, after):
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def descriptor_file(root, snap_id):
    with open(os.path.join(root, ".jvs", "descriptors", f"{snap_id}.json")) as f:
        return json.load(f)


def snapshot_dir(root, snap_id):
    return os.path.join(root, ".jvs", "snapshots", snap_id)


def fallbacks(doc):
    return [d for d in doc.get("degradations", []) if d.get("kind") in FALLBACK_KINDS]


def assert_verified(repo, **opts):
    v = repo.call("verify", **opts)
    bad = [r for r in v["results"] if not (r["checksum_valid"] and r["payload_hash_valid"]) or r["tamper_detected"]]
    assert v["ok"] and not bad, json.dumps(v, indent=1)
    return v


def assert_engine(doc, engine, what):
    """`engine` in a snapshot/restore/fork/create result and, for a snapshot, in its descriptor."""
    assert doc.get("engine") == engine, f"{what}: engine {doc.get('engine')!r}, want {engine!r}: {_short(doc)}"
    if "snapshot" in doc and isinstance(doc["snapshot"], dict):
        assert doc["snapshot"]["engine"] == engine, f"{what}: descriptor engine {doc['snapshot']['engine']!r}"
    assert not fallbacks(doc), f"{what}: unexpected fallbacks {fallbacks(doc)[:5]}"


def _short(doc):
    d = dict(doc)
    if "degradations" in d:
        d["degradations"] = d["degradations"][:3] + (["..."] if len(d["degradations"]) > 3 else [])
    d.pop("changes", None)
    return json.dumps(d)[:1500]


def data_files_under(root, min_size=4096):
    """Relative paths of the regular files under root that hold at least min_size bytes (top-level
    .READY excluded): btrfs stores files under ~2 KiB inline in its metadata, where no extent is shared."""
    out = []
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if rel != ".READY" and not os.path.islink(p) and os.path.getsize(p) >= min_size:
                out.append(rel)
    return sorted(out)


def assert_fallback_reported(doc, files, what, kind="reflink_fallback", asked="reflink-copy"):
    """Asked for an engine that cannot work here: success, and the fallback is said, never silent.
    Either the result names "copy" and carries at least one fallback degradation, or it names the
    engine asked for and lists every file that fell back."""
    fb = fallbacks(doc)
    assert doc["engine"] in ("copy", asked), doc
    if "snapshot" in doc:
        assert doc["snapshot"]["engine"] == doc["engine"]
    if doc["engine"] == "copy":
        assert fb, f"{what}: {asked} was requested, copy ran, and no degradation says so: {doc.get('degradations')}"
    else:
        missing = sorted(set(files) - {d["path"] for d in fb})
        assert not missing, f"{what}: engine says {asked} but these files fell back silently: {missing[:5]}"
    assert all(d["kind"] == kind and d.get("detail") and d.get("path") for d in fb), fb[:3]
