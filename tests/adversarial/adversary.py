"""The racing adversary: a separate process that, in a tight loop, swaps directories and files of
worktrees (and of snapshot directories) for symlinks that lead outside the repository, and back.

Each swap is one renameat2(RENAME_EXCHANGE) between an entry and a symlink beside it (`<name>.lnk`,
made on first use), so the entry flips between the real thing and a link to the canary tree with no
moment where the name is missing. Half the links are absolute, half relative.

    python3 adversary.py <repo> <outside> <stop-file> <report-file>

It runs until <stop-file> exists, then swaps back what it can (so the trees are whole again) and
writes {"swaps": n, "passes": n} to <report-file>."""
import ctypes
import json
import os
import random
import stat
import sys
import time

AT_FDCWD = -100
RENAME_EXCHANGE = 2
libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]


def exchange(dirfd, a, b):
    return libc.renameat2(dirfd, a.encode(), dirfd, b.encode(), RENAME_EXCHANGE) == 0


def roots(repo):
    """Every tree the adversary attacks: main, every worktree, every snapshot directory."""
    out = [os.path.join(repo, "main")]
    for parent in (os.path.join(repo, "worktrees"), os.path.join(repo, ".jvs", "snapshots")):
        try:
            out += [os.path.join(parent, n) for n in os.listdir(parent) if not n.endswith(".lnk")]
        except OSError:
            pass
    return out


# (parent components, name, is_dir): directories d<k>, d<k>/sub and files d<k>/f0, the entries a
# jvs operation walks through.
VICTIMS = [v for k in range(4) for v in (((), f"d{k}", True), ((f"d{k}",), "sub", True), ((f"d{k}",), "f0", False))]


def open_parent(root, parts):
    """The victim's directory, reached without following any link (the adversary must not escape
    itself: after a swap, d<k> is a link to the outside)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    for c in parts:
        try:
            nfd = os.open(c, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        finally:
            os.close(fd)
        fd = nfd
    return fd


def link_for(root, parts, is_dir, outside, k):
    """The symlink swapped in: to an outside directory (or the secret file); half relative."""
    target = os.path.join(outside, "dir" if is_dir else "secret")
    if k % 2:  # relative, climbing out of the tree
        target = os.path.relpath(target, os.path.join(root, *parts))
    return target


def lexists(name, dirfd):
    try:
        os.lstat(name, dir_fd=dirfd)
        return True
    except OSError:
        return False


def is_link(name, dirfd):
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dirfd).st_mode)
    except OSError:
        return False


def heal(repo):
    """Every victim that holds one of our links gets its real entry back."""
    for root in roots(repo):
        for parts, name, _ in VICTIMS:
            try:
                fd = open_parent(root, parts)
            except OSError:
                continue
            try:
                lnk = name + ".lnk"
                if is_link(name, fd) and lexists(lnk, fd) and not is_link(lnk, fd):
                    exchange(fd, name, lnk)
            finally:
                os.close(fd)


def main():
    repo, outside, stop_file, report = sys.argv[1:5]
    swaps = passes = 0
    rng = random.Random(int(os.environ.get("JVS_ADVERSARY_SEED", "8")))
    while not os.path.exists(stop_file):
        passes += 1
        time.sleep(rng.random() * 0.001)
        # One victim of one tree per pass: quiet moments in between let operations get through,
        # so the race meets them mid-way rather than only at their first step.
        trees = roots(repo)
        snapshots = [t for t in trees if "/.jvs/" in t]
        worktrees = [t for t in trees if "/.jvs/" not in t]
        root = rng.choice(snapshots if snapshots and rng.random() < 0.25 else worktrees)
        k = rng.randrange(len(VICTIMS))
        parts, name, is_dir = VICTIMS[k]
        try:
            fd = open_parent(root, parts)
        except OSError:
            continue  # swapped (a link now), removed, or not made yet
        try:
            lnk = name + ".lnk"
            if not lexists(lnk, fd):
                if not lexists(name, fd) or is_link(name, fd):
                    continue
                os.symlink(link_for(root, parts, is_dir, outside, k + passes), lnk, dir_fd=fd)
            # Swapped for a moment (none, or up to 3 ms), then back: operations meet links that
            # come and go mid-way, and get through in the quiet moments in between.
            if exchange(fd, name, lnk):
                swaps += 1
                if rng.random() < 0.5:
                    time.sleep(rng.random() * 0.003)
                if exchange(fd, name, lnk):
                    swaps += 1
        except OSError:
            pass  # the tree changed under us (jvs removed it, gc deleted it): next one
        finally:
            os.close(fd)
    heal(repo)
    with open(report, "w") as f:
        json.dump({"swaps": swaps, "passes": passes}, f)


if __name__ == "__main__":
    main()
