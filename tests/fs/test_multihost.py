"""Several hosts on one JuiceFS volume (docs/MULTIHOST.md): one volume, metadata in a private
redis-server on 127.0.0.1, data in a local bucket directory, mounted at two mount points (a third for
the crash) by separate `juicefs mount` processes, each standing for a host, with the multi-host
mount options. Agents on both hosts work in one repository at once; a change made through one host
is seen by a snapshot through the other, and no stat cache vouches for another host's view; a host
whose juicefs processes are SIGKILLed mid-operation keeps its locks until JuiceFS expires its
session, then `doctor --repair` from another host leaves the repository strict-clean.

The crash test starts first and finishes last: the wait for the dead host's session to expire (48-72 s
with JuiceFS's default 12 s heartbeat: five heartbeats after the dead host's last one, found by a
survivor's next clean-up) runs while the other tests do. JVS_JFS_HEARTBEAT=3s shortens it; the first
checks must run before that expiry, so not below 3s."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from cowtest import assert_verified, new_repo, populate, snapshot_dir, tree
from libjvs_driver import LIB_PATH, JvsError

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT = os.path.join(HERE, "hostagent.py")
JFS = "juicefs-clone"


def on(host, path, hosts):
    """The same path of the volume as host `host` (a Mount) sees it."""
    for m in hosts.mounts.values():
        if path == m.path or path.startswith(m.path + "/"):
            return host.path + path[len(m.path):]
    raise ValueError(f"{path} is on no mount of the volume")


def run_agent(mode, spec, timeout=300, unshare=False):
    argv = [sys.executable, AGENT, mode, json.dumps({"lib": LIB_PATH, **spec})]
    p = subprocess.run((["unshare", "--uts"] if unshare else []) + argv, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, f"agent {mode} failed ({p.returncode}): {p.stderr[-3000:]}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def start_agent(mode, spec, env=None):
    return subprocess.Popen([sys.executable, AGENT, mode, json.dumps({"lib": LIB_PATH, **spec})],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})))


def published(root):
    d = os.path.join(root, ".jvs", "descriptors")
    return {n[:-5] for n in os.listdir(d) if n.endswith(".json") and not n.startswith(".")}


def assert_strict_clean(repo):
    doc = repo.call("doctor", strict=True)
    bad = [f for f in doc["findings"] if f["severity"] != "info"]
    assert doc["healthy"] and not bad, json.dumps(doc, indent=1)[:4000]
    return doc


def audit_events(root):
    with open(os.path.join(root, ".jvs", "audit", "audit.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


# ---- a host dies mid-operation (starts first, finishes last) --------------------------------------

CRASH = {}  # what the first crash test leaves for the last one


@pytest.fixture(scope="module")
def crashed(lib, jfs_hosts):
    """A third host, C, runs a snapshot, a restore and a fork in one repository and stops each in
    the middle (its callback waits); then both of C's juicefs processes (the mount and the supervisor
    that would restart it) are SIGKILLed, like a host crash, and the operations are let go (they can
    only fail now: C's mount is dead)."""
    a, b = jfs_hosts.mounts["a"], jfs_hosts.mounts["b"]
    c = jfs_hosts.mount("c", heartbeat=os.environ.get("JVS_JFS_HEARTBEAT") or None)
    ra, root, main = new_repo(lib, a.path, prefix="crash-")
    try:
        populate(main, n_files=30)
        s1 = ra.call("snapshot", note="s1")["snapshot"]["snapshot_id"]
        w2 = ra.call("worktree_fork", **{"from": s1, "name": "w2"})["worktree"]["path"]
        with open(os.path.join(w2, "in-w2.txt"), "w") as f:
            f.write("w2\n")
        s2 = ra.call("snapshot", worktree="w2", note="s2")["snapshot"]["snapshot_id"]
        with open(os.path.join(w2, "in-flight.txt"), "w") as f:
            f.write("never published\n")
        for rel in os.listdir(os.path.join(main, "d0"))[:5]:  # main differs from s1: restore has work
            p = os.path.join(main, "d0", rel)
            if os.path.isfile(p):
                with open(p, "ab") as f:
                    f.write(b"dirty")
    finally:
        ra.close()
    before = published(root)
    root_c = on(c, root, jfs_hosts)
    ops = {
        "snapshot": dict(method="snapshot", opts={"worktree": "w2", "note": "dies"}, phase="sync"),
        "restore": dict(method="restore", opts={"worktree": "main", "ref": s1}, phase="write"),
        # a copying fork stops between files (a juicefs clone is one call with no phase to stop in)
        "fork": dict(method="worktree_fork", opts={"from": s2, "name": "f-dead"}, phase="write",
                     env={"JVS_ENGINE": "copy"}),
    }
    procs = {k: start_agent("pause", {"repo": root_c, **v}, env=v.get("env")) for k, v in ops.items()}
    try:
        for k, p in procs.items():
            line = p.stdout.readline()
            why = p.stderr.read()[-2000:] if p.poll() is not None else ""
            assert line.startswith("PAUSED"), f"{k} did not pause: {line!r} {why}"
        held = sorted(os.listdir(os.path.join(root, ".jvs", "locks")))
        c.kill()
        killed_at = time.monotonic()
        outcomes = {}
        for k, p in procs.items():
            try:
                out, err = p.communicate("go\n", timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            last = out.strip().splitlines()[-1:] or [json.dumps({"ok": None, "stderr": err[-800:]})]
            outcomes[k] = json.loads(last[0])
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    CRASH.update(root=root, s1=s1, s2=s2, before=before, killed_at=killed_at, outcomes=outcomes, held=held)
    return CRASH


def test_a_dead_host_keeps_its_locks_until_its_session_expires(lib, jfs_hosts, crashed):
    """Right after the crash: nothing of C's was published, C's worktree locks, lease and claim are
    still held (JuiceFS keeps a dead client's locks until its session expires), so another host gets
    E_LOCKED at once and doctor calls C's leftovers in flight and repairs none of them."""
    for k, o in crashed["outcomes"].items():
        assert o.get("ok") is not True, f"{k} on a dead mount reported success: {o}"
    root = on(jfs_hosts.mounts["b"], crashed["root"], jfs_hosts)
    assert published(root) == crashed["before"]
    held = crashed["held"]  # the lock directory while C's operations were paused
    assert [n for n in held if n.startswith("use-")] and [n for n in held if n.startswith("claim-")], held
    rb, _ = lib.open(root)
    try:
        for method, opts in (("snapshot", {"worktree": "w2"}), ("restore", {"worktree": "main", "ref": "HEAD"})):
            with pytest.raises(JvsError) as e:
                rb.call(method, lock_timeout_ms=0, **opts)
            assert e.value.code == "E_LOCKED", e.value
        doc = rb.call("doctor", repair=True)
        codes = {f["code"] for f in doc["findings"]}
        assert {"intent_in_flight", "lease_in_flight"} <= codes, json.dumps(doc, indent=1)[:3000]
        assert not doc["repairs"], doc["repairs"]
        jvs = os.path.join(root, ".jvs")
        assert os.listdir(os.path.join(jvs, "intents"))
        assert [n for n in os.listdir(os.path.join(jvs, "snapshots")) if n.endswith(".tmp")]
        assert os.path.isdir(os.path.join(root, "worktrees", "f-dead"))
    finally:
        rb.close()


# ---- two hosts at once in one repository -----------------------------------------------------------

def test_two_hosts_snapshot_restore_and_fork_in_one_repository_at_once(lib, jfs_hosts, tmp_path):
    """Four agents, two per host, at the same time: each host's own worktree (snapshot, restore,
    fork, in parallel across hosts), one worktree both hosts snapshot (serialised by jvs's lock
    across mounts: one linear lineage), and one fork name both race for (exactly one wins). Then every
    snapshot verifies from both hosts, the audit chain is intact and counts every snapshot, no id
    collides, and doctor is strict-clean from both."""
    a, b = jfs_hosts.mounts["a"], jfs_hosts.mounts["b"]
    ra, root, main = new_repo(lib, a.path, prefix="both-")
    rb = None
    try:
        populate(main, n_files=12)
        s0 = ra.call("snapshot", note="s0")["snapshot"]["snapshot_id"]
        for name in ("wa", "wb", "shared"):
            ra.call("worktree_fork", **{"from": s0, "name": name})
        go = str(tmp_path / "go")
        specs = [
            {"repo": root, "host": "a", "worktree": "wa", "role": "own", "iterations": 3},
            {"repo": on(b, root, jfs_hosts), "host": "b", "worktree": "wb", "role": "own", "iterations": 3},
            {"repo": root, "host": "a", "worktree": "shared", "role": "shared", "iterations": 4, "race": "race"},
            {"repo": on(b, root, jfs_hosts), "host": "b", "worktree": "shared", "role": "shared", "iterations": 4,
             "race": "race"},
        ]
        procs = [start_agent("work", dict(s, go_file=go)) for s in specs]
        time.sleep(0.5)
        open(go, "w").close()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0 and out.strip(), f"agent failed ({p.returncode}): {err[-3000:]}"
            results.append(json.loads(out.strip().splitlines()[-1]))
        for r in results:
            assert not r["errors"] and not r["mismatches"], json.dumps(r, indent=1)[:4000]

        snaps = [s for r in results for s in r["snapshots"]]
        ids = [s["id"] for s in snaps]
        assert len(ids) == len(set(ids)) == 3 + 3 + 4 + 4, ids
        assert all(s["engine"] == JFS for s in snaps), snaps
        assert published(root) == set(ids) | {s0}
        # one worktree, two hosts: each snapshot's parent is the one before it, whichever host took it
        shared = [s for r in results if r["worktree"] == "shared" for s in r["snapshots"]]
        children = {}
        for s in shared:
            assert s["parent"] not in children, f"two snapshots of 'shared' have parent {s['parent']}: {shared}"
            children[s["parent"]] = s["id"]
        chain, at = [], s0
        while at in children:
            at = children[at]
            chain.append(at)
        assert len(chain) == len(shared), f"lineage of 'shared' is not one chain from {s0}: {shared}"

        races = [r["race"] for r in results if "race" in r]
        assert sorted(bool(x.get("ok")) for x in races) == [False, True], races
        assert [x for x in races if not x.get("ok")][0]["code"] == "E_WORKTREE_EXISTS", races

        forks = {f["name"] for r in results for f in r["forks"]}
        assert len(forks) == 6 and all(f["engine"] == JFS for r in results for f in r["forks"])
        rb, _ = lib.open(on(b, root, jfs_hosts))
        want = {"main", "wa", "wb", "shared", "race"} | forks
        for repo in (ra, rb):
            assert {w["name"] for w in repo.call("worktree_list")["worktrees"]} == want
            v = assert_verified(repo, all=True)
            assert v["audit"]["ok"] and {x["snapshot_id"] for x in v["results"]} == set(ids) | {s0}
            assert_strict_clean(repo)
        created = [e for e in audit_events(root) if e["event_type"] == "snapshot_create"]
        assert sorted(e["snapshot_id"] for e in created) == sorted(ids + [s0])
    finally:
        ra.close()
        if rb:
            rb.close()


# ---- stat cache and engine detection across hosts ----------------------------------------------------

def rewrite_same_size_same_mtime(path, data):
    st = os.stat(path)
    assert len(data) == st.st_size
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_change_through_one_host_is_seen_by_a_snapshot_through_the_other(lib, jfs_hosts):
    """Host B rewrites a file in place (same size, mtime put back), appends to another and chmods a
    third; a snapshot through host A right away records all three (ctime moved, and the multi-host
    mount options leave no kernel cache to hide it) and verifies from both hosts. A's stat cache
    never vouches for B's view (another device number), B's own cache does."""
    a, b = jfs_hosts.mounts["a"], jfs_hosts.mounts["b"]
    ra, root, main = new_repo(lib, a.path, prefix="stat-")
    rb, _ = lib.open(on(b, root, jfs_hosts))
    try:
        files = populate(main, n_files=30)
        time.sleep(0.05)  # settled: every ctime before the clone starts
        n = ra.call("snapshot", note="first")["stats"]["files"]
        time.sleep(0.05)
        again = ra.call("snapshot", note="unchanged")
        assert again["engine"] == JFS and again["stats"]["files_hashed"] <= 1, again["stats"]
        main_b = on(b, main, jfs_hosts)
        same, grown, chmod = files[3], files[4], "run.sh"
        with open(os.path.join(main_b, same), "rb") as f:
            old = f.read()
        rewrite_same_size_same_mtime(os.path.join(main_b, same), bytes(x ^ 0xFF for x in old))
        with open(os.path.join(main_b, grown), "ab") as f:
            f.write(b"more")
        os.chmod(os.path.join(main_b, chmod), 0o700)
        doc = ra.call("snapshot", note="after B's changes")
        assert doc["engine"] == JFS and doc["stats"]["files_hashed"] >= 2, doc["stats"]
        sid = doc["snapshot"]["snapshot_id"]
        snap = tree(snapshot_dir(root, sid))
        assert snap == tree(main_b)
        # Host A's own JuiceFS client may go on serving the rewritten file's old bytes (it trusts its
        # cached data while the mtime is unchanged): the snapshot holds and hashes the clone instead.
        assert {k: v for k, v in tree(main).items() if k != same} == {k: v for k, v in snap.items() if k != same}
        assert snap[same][2] != tree(snapshot_dir(root, again["snapshot"]["snapshot_id"]))[same][2]
        assert snap[chmod][1] == 0o700
        assert_verified(ra, all=True)
        assert_verified(rb, all=True)

        through_b = rb.call("snapshot", note="through B, nothing changed")
        assert through_b["stats"]["files_hashed"] == n, f"A's stat cache vouched for B's view: {through_b['stats']}"
        time.sleep(0.05)
        own = rb.call("snapshot", note="through B again")
        assert own["stats"]["files_hashed"] <= 1, own["stats"]
        assert_verified(rb, all=True)
    finally:
        ra.close()
        rb.close()


def other_host(root, calls):
    """`calls` through the same mount by a process that names another host (unshare --uts, another
    host name): the same device and inode numbers, another host's view."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) not found: cannot stand up another host name")
    probe = subprocess.run(["unshare", "--uts", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare --uts refused here: {probe.stderr.strip()}")
    out = run_agent("call", {"repo": root, "hostname": "jvs-other-host", "calls": calls}, unshare=True)
    assert all(o["ok"] for o in out), out
    return [o["doc"] for o in out]


def test_a_stat_cache_written_on_one_host_never_vouches_for_another(lib, jfs_hosts):
    """Two real hosts can see one JuiceFS mount with equal device numbers; then only the cache's
    own record of the host that wrote it keeps it from vouching there. Through the same mount, as
    another host: a snapshot reads every file again, and a JuiceFS fork's seeded cache (entries
    bounded by the forking host's clock) vouches for nothing either; as the same host it does."""
    a = jfs_hosts.mounts["a"]
    ra, root, main = new_repo(lib, a.path, prefix="hostcache-")
    try:
        populate(main, n_files=20)
        time.sleep(0.05)
        first = ra.call("snapshot", note="first")
        n = first["stats"]["files"]
        time.sleep(0.05)
        assert ra.call("snapshot", note="same host")["stats"]["files_hashed"] <= 1
        sid = first["snapshot"]["snapshot_id"]
        for name in ("fk-other", "fk-same"):
            assert ra.call("worktree_fork", **{"from": sid, "name": name})["engine"] == JFS
        time.sleep(0.05)
        other = other_host(root, [["snapshot", {"note": "other host"}],
                                  ["snapshot", {"worktree": "fk-other", "note": "other host's fork snapshot"}]])
        assert other[0]["stats"]["files_hashed"] == n, f"another host's cache vouched: {other[0]['stats']}"
        assert other[1]["stats"]["files_hashed"] == n, f"a fork's seeded cache vouched elsewhere: {other[1]['stats']}"
        same = ra.call("snapshot", worktree="fk-same", note="same host's fork snapshot")
        assert same["stats"]["files_hashed"] <= 1, same["stats"]
        assert_verified(ra, all=True)
    finally:
        ra.close()


def test_engine_detection_is_each_hosts_own(lib, jfs_hosts):
    """Each host detects JuiceFS from its own mount table and PATH: a host without the `juicefs`
    binary copies (and says why) while the other still clones; nothing one host learnt is taken
    for the other's."""
    a, b = jfs_hosts.mounts["a"], jfs_hosts.mounts["b"]
    ra, root, main = new_repo(lib, a.path, prefix="engine-")
    rb, _ = lib.open(on(b, root, jfs_hosts))
    try:
        populate(main, n_files=8)
        for repo in (ra, rb):
            info = repo.call("info")
            assert (info["engine"], info["engine_source"]) == (JFS, "detected"), info
        assert ra.call("snapshot", note="a")["engine"] == JFS
        root_b = on(b, root, jfs_hosts)
        p = subprocess.run([sys.executable, AGENT, "call", json.dumps(
            {"lib": LIB_PATH, "repo": root_b, "calls": [["info", {}], ["snapshot", {"note": "b without juicefs"}]]})],
            capture_output=True, text=True, timeout=300, env=dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin"))
        assert p.returncode == 0, p.stderr[-2000:]
        info, snap = (json.loads(line) for line in p.stdout.splitlines())
        assert info["ok"] and info["doc"]["engine"] == "copy" and "not on PATH" in info["doc"]["engine_detail"], info
        assert snap["ok"] and snap["doc"]["engine"] == "copy", snap
        assert [d for d in snap["doc"]["degradations"] if d["kind"] == "clone_fallback"], snap["doc"]["degradations"]
        for repo in (ra, rb):
            info = repo.call("info")
            assert (info["engine"], info["engine_source"]) == (JFS, "detected"), info
        with open(os.path.join(main, "after.txt"), "w") as f:
            f.write("after\n")
        assert rb.call("snapshot", note="b with juicefs")["engine"] == JFS
        assert_verified(ra, all=True)
        assert_verified(rb, all=True)
    finally:
        ra.close()
        rb.close()


# ---- the dead host's session expires; doctor repairs from another host --------------------------------

def test_z_after_the_dead_hosts_session_expires_doctor_repairs_from_another_host(lib, jfs_hosts, crashed):
    """Host B waits for the dead host's lock (JuiceFS releases it when the session expires), then
    `doctor --repair` through B removes exactly C's leftovers (the snapshot's intent and staging
    directory, the leases, the fork's claim and half-made worktree), `doctor --strict` is clean from
    A and B, every snapshot published before the crash still verifies from both, and the repository
    works again (the interrupted fork's name is free)."""
    a, b = jfs_hosts.mounts["a"], jfs_hosts.mounts["b"]
    root_b = on(b, crashed["root"], jfs_hosts)
    rb, _ = lib.open(root_b)
    ra, _ = lib.open(on(a, crashed["root"], jfs_hosts))
    try:
        t0 = time.monotonic()
        doc = rb.call("snapshot", worktree="w2", note="after the crash", lock_timeout_ms=240000)
        waited, since_kill = time.monotonic() - t0, time.monotonic() - crashed["killed_at"]
        print(f"\n[multihost] B got the dead host's worktree lock {since_kill:.1f}s after the kill "
              f"(waited {waited:.1f}s here)", file=sys.stderr)
        after = doc["snapshot"]["snapshot_id"]
        rep = rb.call("doctor", repair=True)
        assert rep["repairs"] and all(x["done"] for x in rep["repairs"]), json.dumps(rep, indent=1)[:4000]
        ids = {x["id"] for x in rep["repairs"]}
        assert {"clean_intent", "remove_stale_lease", "remove_orphan_payload"} <= ids, ids
        for repo in (rb, ra):
            assert_strict_clean(repo)
            v = assert_verified(repo, all=True)
            assert v["audit"]["ok"]
            assert {x["snapshot_id"] for x in v["results"]} == crashed["before"] | {after}
        jvs = os.path.join(root_b, ".jvs")
        assert not os.listdir(os.path.join(jvs, "intents"))
        assert not [n for n in os.listdir(os.path.join(jvs, "snapshots")) if n.endswith(".tmp")]
        assert not [n for n in os.listdir(os.path.join(jvs, "locks")) if n.startswith(("use-", "claim-"))]
        assert not os.path.exists(os.path.join(root_b, "worktrees", "f-dead"))
        assert {w["name"] for w in rb.call("worktree_list")["worktrees"]} == {"main", "w2"}
        # the interrupted restore moved no head: main restores through B, the fork's name is free
        rb.call("restore", worktree="main", ref=crashed["s1"])
        assert tree(os.path.join(root_b, "main")) == tree(snapshot_dir(root_b, crashed["s1"]))
        fork = ra.call("worktree_fork", **{"from": crashed["s2"], "name": "f-dead"})
        assert tree(fork["worktree"]["path"]) == tree(snapshot_dir(root_b, crashed["s2"]))
        assert_strict_clean(rb)
    finally:
        rb.close()
        ra.close()
