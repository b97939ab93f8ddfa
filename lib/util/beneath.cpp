#include "util/beneath.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.hpp"
#include "util/holes.hpp"
#include "util/sha256.hpp"

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

namespace jvs {

namespace {

// 1: openat2 works, 0: it does not (old kernel, seccomp), -1: not probed yet.
std::atomic<int> g_openat2{-1};
// Test hook, like JVS_FAULT_KILL_AT: JVS_TEST_FORCE_WALK=1 makes a process use the component walk
// (the adversarial suite races both resolutions).
std::atomic<bool> g_force_walk{[] {
    const char *v = std::getenv("JVS_TEST_FORCE_WALK");
    return v && *v && std::string_view(v) != "0";
}()};

bool is_component_ok(std::string_view c) { return !c.empty() && c != "." && c != ".."; }

// The walk: every intermediate component opened O_PATH | O_DIRECTORY | O_NOFOLLOW from the previous
// one. A symlink there fails with ENOTDIR (O_PATH | O_NOFOLLOW yields the link, O_DIRECTORY
// refuses it); it is told apart from a file by fstatat and reported as ELOOP, as openat2 does.
int walk_open(int dirfd, std::string_view rel, int flags, mode_t mode) {
    if (rel.empty()) return ::openat(dirfd, ".", flags, mode);
    int cur = dirfd;
    UniqueFd owned;
    // O_DIRECTORY | O_NOFOLLOW on a symlink fails with ENOTDIR: say ELOOP, as for any other symlink.
    auto fail_open = [&cur](const std::string &comp) {
        int err = errno;
        struct stat st {};
        if (err == ENOTDIR && ::fstatat(cur, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            err = ELOOP;
        errno = err;
        return -1;
    };
    for (;;) {
        size_t slash = rel.find('/');
        std::string comp(rel.substr(0, slash));
        if (slash == std::string_view::npos) {
            int fd = ::openat(cur, comp.c_str(), flags, mode);
            return fd >= 0 ? fd : fail_open(comp);
        }
        int next = ::openat(cur, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) return fail_open(comp);
        owned = UniqueFd(next);
        cur = next;
        rel.remove_prefix(slash + 1);
    }
}

int openat2_beneath(int dirfd, const std::string &rel, int flags, mode_t mode) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0; attempt < 4; attempt++) {
        long fd = ::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno != EAGAIN && errno != EINTR) return -1;
    }
    return -1;
}

// open(2) of `rel` beneath `dirfd`, final component never followed; -1 with errno.
int open_beneath(int dirfd, std::string_view rel, int flags, mode_t mode) {
    flags |= O_CLOEXEC | O_NOFOLLOW;
    if (!(flags & (O_CREAT | O_TMPFILE))) mode = 0;
    int state = g_openat2.load(std::memory_order_relaxed);
    if (state != 0 && !g_force_walk.load(std::memory_order_relaxed)) {
        std::string r(rel.empty() ? "." : rel);
        int fd = openat2_beneath(dirfd, r, flags, mode);
        if (fd >= 0) {
            if (state < 0) g_openat2 = 1;
            return fd;
        }
        int err = errno;
        if (err == ENOSYS) {
            g_openat2 = 0;  // no openat2 in this kernel: the walk from now on
        } else if (err == ENOTDIR || err == ENAMETOOLONG) {
            // A symlink opened with O_DIRECTORY, or a file in the way: the walk tells them apart. A
            // path longer than PATH_MAX: the walk takes it one component at a time.
            if (state < 0) g_openat2 = 1;
            return walk_open(dirfd, rel, flags, mode);
        } else if (err == EPERM || err == EINVAL) {
            // A seccomp filter answering EPERM for an unknown syscall, or flags openat2 refuses and
            // open accepts: the walk decides; if it succeeds where openat2 failed, stop asking it.
            int wfd = walk_open(dirfd, rel, flags, mode);
            if (wfd >= 0 && state < 0) g_openat2 = 0;
            return wfd;
        } else {
            if (state < 0) g_openat2 = 1;
            errno = err;
            return -1;
        }
    }
    return walk_open(dirfd, rel, flags, mode);
}

std::string join_display(const std::string &base, std::string_view rel) {
    if (rel.empty()) return base;
    return base.empty() ? std::string(rel) : base + "/" + std::string(rel);
}

[[noreturn]] void fail_at(int err, const char *call, const std::string &display) {
    if (err == ELOOP || err == EXDEV)
        fail("E_PATH_ESCAPE",
             display + ": a symlink stands where jvs expected a directory or a file (jvs never follows links "
                       "inside a tree)",
             "a path passes through a symlink, or the tree changed while jvs worked on it; retry once nothing "
             "moves files in it",
             {{"path", display}, {"call", call}});
    fail_errno(err, call, display);
}

bool absent_errno(int err) { return err == ENOENT || err == ENOTDIR; }

}  // namespace

std::vector<std::string> list_names(int fd) {
    std::vector<std::string> names;
    // A description of its own: threads listing one Dir must not share a directory offset.
    int dfd = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return names;
    DIR *d = ::fdopendir(dfd);
    if (!d) {
        ::close(dfd);
        return names;
    }
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

namespace {
// Gives the owner full access to the directory `name` in `dirfd` (the inode `seen`, never a link: it
// is reached by an O_PATH descriptor, then chmod'ed through /proc/self/fd), so a tree a user made
// unreadable or read-only can be removed without root. False when it cannot (not the owner).
bool grant_owner_access(int dirfd, const std::string &name, const struct stat &seen) {
    UniqueFd p(::openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!p || ::fstat(p.get(), &st) != 0 || st.st_dev != seen.st_dev || st.st_ino != seen.st_ino) return false;
    std::string proc = "/proc/self/fd/" + std::to_string(p.get());
    return ::chmod(proc.c_str(), (st.st_mode & 07777) | S_IRWXU) == 0;
}

// rm -rf of `name` in `dirfd`. A directory is opened O_NOFOLLOW | O_DIRECTORY from `dirfd` and must
// be the inode fstatat saw an instant before; its children are removed through that fd (a directory
// without owner write or search permission gets it first: it is going anyway). An entry that changes
// type between the two calls is looked at again (a few times), never followed.
void remove_at(int dirfd, const std::string &name, const std::string &display, int depth) {
    if (depth > 4096) fail("E_IO", "directory tree too deep to remove: " + display, "remove it by hand");
    for (int attempt = 0;; attempt++) {
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return;
            fail_errno(errno, "lstat", display);
        }
        if (!S_ISDIR(st.st_mode)) {
            if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return;
            if (errno == EISDIR && attempt < 3) continue;  // became a directory meanwhile
            fail_errno(errno, "unlink", display);
        }
        UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd && errno == EACCES && grant_owner_access(dirfd, name, st))
            fd = UniqueFd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) {
            if (errno == ENOENT) return;
            if ((errno == ELOOP || errno == ENOTDIR) && attempt < 3) continue;  // no longer a directory
            fail_at(errno, "open", display);
        }
        struct stat now {};
        if (::fstat(fd.get(), &now) != 0) fail_errno(errno, "fstat", display);
        if (now.st_dev != st.st_dev || now.st_ino != st.st_ino)
            fail("E_IO", "directory replaced while it was being removed: " + display,
                 "retry once nothing moves files in the tree", {{"path", display}});
        if ((now.st_mode & S_IRWXU) != S_IRWXU && ::fchmod(fd.get(), (now.st_mode & 07777) | S_IRWXU) != 0) {
        }  // not the owner: removing its entries reports EACCES
        for (const auto &n : list_names(fd.get())) remove_at(fd.get(), n, display + "/" + n, depth + 1);
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return;
        if (errno == ENOTEMPTY && attempt < 3) continue;  // something was added meanwhile
        fail_errno(errno, "rmdir", display);
    }
}

}  // namespace

bool beneath_uses_openat2() {
    if (g_force_walk.load()) return false;
    if (g_openat2.load() < 0) {
        UniqueFd probe(open_beneath(AT_FDCWD, "", O_PATH | O_DIRECTORY, 0));
    }
    return g_openat2.load() == 1;
}

void beneath_force_walk(bool on) { g_force_walk = on; }

std::pair<std::string_view, std::string_view> split_parent(std::string_view rel) {
    size_t slash = rel.rfind('/');
    if (slash == std::string_view::npos) return {std::string_view(), rel};
    return {rel.substr(0, slash), rel.substr(slash + 1)};
}

void check_beneath_rel(std::string_view rel) {
    if (rel.empty()) return;
    bool ok = rel.find('\0') == std::string_view::npos;
    for (size_t i = 0; ok;) {
        size_t slash = rel.find('/', i);
        ok = is_component_ok(rel.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i));
        if (slash == std::string_view::npos) break;
        i = slash + 1;
    }
    if (!ok)
        fail("E_PATH_INVALID", "not a path inside a tree: '" + std::string(rel.substr(0, 200)) + "'",
             "paths inside a tree are relative, with no empty, '.' or '..' component",
             {{"path", std::string(rel.substr(0, 200))}});
}

// ---- Dir ----------------------------------------------------------------------------------------

Dir Dir::open_root(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        struct stat st {};
        if (err == ENOTDIR && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) err = ELOOP;
        fail_at(err, "open", path);
    }
    return Dir(std::move(fd), path);
}

std::optional<Dir> Dir::open_root_if_exists(const std::string &path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 && absent_errno(errno)) return std::nullopt;
    return open_root(path);
}

std::string Dir::display(std::string_view rel) const { return join_display(display_, rel); }

struct stat Dir::stat_self() const {
    struct stat st {};
    if (::fstat(fd(), &st) != 0) fail_errno(errno, "fstat", display_);
    return st;
}

int Dir::try_open(std::string_view rel, int flags, mode_t mode) const {
    check_beneath_rel(rel);
    return open_beneath(fd(), rel, flags, mode);
}

UniqueFd Dir::open(std::string_view rel, int flags, mode_t mode) const {
    int f = try_open(rel, flags, mode);
    if (f < 0) fail_at(errno, "open", display(rel));
    return UniqueFd(f);
}

Dir Dir::dir(std::string_view rel) const { return Dir(open(rel, O_RDONLY | O_DIRECTORY), display(rel)); }

std::optional<Dir> Dir::dir_if_exists(std::string_view rel) const {
    int f = try_open(rel, O_RDONLY | O_DIRECTORY);
    if (f < 0) {
        if (absent_errno(errno)) return std::nullopt;
        fail_at(errno, "open", display(rel));
    }
    return Dir(UniqueFd(f), display(rel));
}

UniqueFd Dir::open_regular(std::string_view rel, struct stat *st_out) const {
    UniqueFd f = open(rel, O_RDONLY | O_NONBLOCK);
    struct stat st {};
    if (::fstat(f.get(), &st) != 0) fail_errno(errno, "fstat", display(rel));
    if (!S_ISREG(st.st_mode))
        fail("E_SPECIAL_FILE", "not a regular file: " + display(rel), "move special files out of the tree",
             {{"path", display(rel)}});
    if (st_out) *st_out = st;
    return f;
}

std::optional<struct stat> Dir::lstat(std::string_view rel) const {
    check_beneath_rel(rel);
    struct stat st {};
    if (rel.empty()) return stat_self();
    auto [parent, leaf] = split_parent(rel);
    UniqueFd p;
    int pfd = fd();
    if (!parent.empty()) {
        p = UniqueFd(open_beneath(fd(), parent, O_PATH | O_DIRECTORY, 0));
        if (!p) {
            if (absent_errno(errno)) return std::nullopt;
            fail_at(errno, "open", display(parent));
        }
        pfd = p.get();
    }
    if (::fstatat(pfd, std::string(leaf).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
    if (absent_errno(errno)) return std::nullopt;
    fail_errno(errno, "lstat", display(rel));
}

Entry Dir::entry(std::string_view rel) const {
    check_beneath_rel(rel);
    if (rel.empty()) fail("E_PATH_INVALID", "the root of a tree is not an entry in it", "", {{"path", display_}});
    auto [parent, leaf] = split_parent(rel);
    Entry e;
    e.name = std::string(leaf);
    e.display = display(rel);
    if (parent.empty()) {
        e.dirfd = fd();
        return e;
    }
    auto p = std::make_shared<UniqueFd>(open_beneath(fd(), parent, O_PATH | O_DIRECTORY, 0));
    if (!*p) fail_at(errno, "open", display(parent));
    e.dirfd = p->get();
    e.hold = std::move(p);
    return e;
}

std::string Dir::read_link(std::string_view rel) const {
    Entry e = entry(rel);
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = ::readlinkat(e.dirfd, e.name.c_str(), buf.data(), buf.size());
        if (n < 0) fail_errno(errno, "readlink", e.display);
        if (static_cast<size_t>(n) < buf.size()) return buf.substr(0, static_cast<size_t>(n));
        buf.resize(buf.size() * 2);
    }
}

std::optional<std::string> Dir::read_small_file(std::string_view rel, size_t max) const {
    int f = try_open(rel, O_RDONLY | O_NONBLOCK);
    if (f < 0) {
        if (absent_errno(errno) || errno == ELOOP) return std::nullopt;  // a symlink is no file to read
        fail_at(errno, "open", display(rel));
    }
    UniqueFd fd(f);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::string out;
    char buf[4096];
    while (out.size() <= max) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", display(rel));
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    if (out.size() > max) out.resize(max);
    return out;
}

std::vector<std::string> Dir::list(std::string_view rel) const {
    if (rel.empty()) return list_names(fd());
    return list_names(dir(rel).fd());
}

bool Dir::mkdir(std::string_view rel, mode_t mode) const {
    Entry e = entry(rel);
    if (::mkdirat(e.dirfd, e.name.c_str(), 0700) != 0) {
        int err = errno;
        struct stat st {};
        if (err == EEXIST && ::fstatat(e.dirfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
            return false;
        fail_errno(err, "mkdir", e.display);
    }
    if ((mode & 07777) != 0700) {
        UniqueFd d(::openat(e.dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!d) fail_at(errno, "open", e.display);
        if (::fchmod(d.get(), mode & 07777) != 0) fail_errno(errno, "fchmod", e.display);
    }
    return true;
}

void Dir::symlink(const std::string &target, std::string_view rel) const { entry_symlink(target, entry(rel)); }
bool Dir::unlink(std::string_view rel) const { return entry_unlink(entry(rel)); }
void Dir::rename(std::string_view from, std::string_view to, unsigned flags) const {
    entry_rename(entry(from), entry(to), flags);
}
void Dir::remove_tree(std::string_view rel) const {
    if (rel.empty()) fail("E_INTERNAL", "remove_tree of a tree's own root", "", {{"path", display_}});
    auto [parent, leaf] = split_parent(rel);
    if (!parent.empty()) {
        auto st = lstat(parent);  // a symlink there: entry() below refuses it
        if (!st || !(S_ISDIR(st->st_mode) || S_ISLNK(st->st_mode))) return;  // nothing there to remove
    }
    entry_remove_tree(entry(rel));
}
void Dir::set_times(std::string_view rel, const struct timespec times[2]) const { entry_set_times(entry(rel), times); }
void Dir::chown(std::string_view rel, uid_t uid, gid_t gid) const { entry_chown(entry(rel), uid, gid); }

// ---- entries ------------------------------------------------------------------------------------

void fail_entry(int err, const char *call, const Entry &e) { fail_at(err, call, e.display); }

void entry_link(const Entry &from, const Entry &to) {
    if (::linkat(from.dirfd, from.name.c_str(), to.dirfd, to.name.c_str(), 0) != 0) fail_at(errno, "link", to.display);
}

bool entry_try_link(const Entry &from, const Entry &to) {
    if (::linkat(from.dirfd, from.name.c_str(), to.dirfd, to.name.c_str(), 0) == 0) return true;
    if (errno == EMLINK || errno == EXDEV || errno == EPERM || errno == EOPNOTSUPP || errno == ENOENT) return false;
    fail_at(errno, "link", to.display);
}

void entry_rename(const Entry &from, const Entry &to, unsigned flags) {
    int rc = flags ? ::renameat2(from.dirfd, from.name.c_str(), to.dirfd, to.name.c_str(), flags)
                   : ::renameat(from.dirfd, from.name.c_str(), to.dirfd, to.name.c_str());
    if (rc != 0) fail_at(errno, "rename", to.display);
}

bool entry_unlink(const Entry &e) {
    if (::unlinkat(e.dirfd, e.name.c_str(), 0) == 0) return true;
    if (errno == ENOENT) return false;
    fail_at(errno, "unlink", e.display);
}

void entry_remove_tree(const Entry &e) { remove_at(e.dirfd, e.name, e.display, 0); }

std::optional<struct stat> entry_lstat(const Entry &e) {
    struct stat st {};
    if (::fstatat(e.dirfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
    if (absent_errno(errno)) return std::nullopt;
    fail_errno(errno, "lstat", e.display);
}

UniqueFd entry_open(const Entry &e, int flags, mode_t mode) {
    flags |= O_CLOEXEC | O_NOFOLLOW;
    UniqueFd fd(::openat(e.dirfd, e.name.c_str(), flags, (flags & O_CREAT) ? mode : 0));
    if (!fd) fail_at(errno, "open", e.display);
    return fd;
}

void entry_symlink(const std::string &target, const Entry &e) {
    if (::symlinkat(target.c_str(), e.dirfd, e.name.c_str()) != 0) fail_at(errno, "symlink", e.display);
}

void entry_set_times(const Entry &e, const struct timespec times[2]) {
    if (::utimensat(e.dirfd, e.name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail_at(errno, "utimensat", e.display);
}

void entry_chown(const Entry &e, uid_t uid, gid_t gid) {
    if (::fchownat(e.dirfd, e.name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) fail_at(errno, "lchown", e.display);
}

// ---- DirCache -----------------------------------------------------------------------------------

std::shared_ptr<const UniqueFd> DirCache::parent(std::string_view dir_rel) {
    std::string key(dir_rel);
    {
        std::lock_guard<std::mutex> g(mu_);
        auto it = map_.find(key);
        if (it != map_.end()) {
            order_.splice(order_.begin(), order_, it->second.second);
            return it->second.first;
        }
    }
    check_beneath_rel(dir_rel);
    auto fd = std::make_shared<const UniqueFd>(open_beneath(root_.fd(), dir_rel, O_PATH | O_DIRECTORY, 0));
    if (!*fd) fail_at(errno, "open", root_.display(dir_rel));
    std::lock_guard<std::mutex> g(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) return it->second.first;  // another thread opened it meanwhile
    order_.push_front(key);
    map_.emplace(key, std::make_pair(fd, order_.begin()));
    if (map_.size() > capacity_) {
        map_.erase(order_.back());  // callers still holding it keep their shared_ptr
        order_.pop_back();
    }
    return fd;
}

Entry DirCache::entry(std::string_view rel) {
    check_beneath_rel(rel);
    auto [parent_rel, leaf] = split_parent(rel);
    Entry e;
    e.name = std::string(leaf);
    e.display = root_.display(rel);
    if (parent_rel.empty()) {
        e.dirfd = root_.fd();
        return e;
    }
    e.hold = parent(parent_rel);
    e.dirfd = e.hold->get();
    return e;
}

// ---- data ---------------------------------------------------------------------------------------

bool clone_data(int in, int out, const std::string &display) {
    if (::ioctl(out, FICLONE, in) == 0) return true;
    if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY || errno == EPERM) return false;
    fail_errno(errno, "ioctl(FICLONE)", display);
}

void write_all(int fd, const char *p, size_t n, const std::string &display) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "write", display);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

namespace {

uint64_t copy_bytes(int in, int out, const std::string &display, Sha256 *hash) {
    thread_local std::unique_ptr<char[]> buf(new char[kIoBufferSize]);  // not zero-filled
    uint64_t total = 0;
    for (;;) {
        ssize_t n = ::read(in, buf.get(), kIoBufferSize);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", display);
        }
        if (n == 0) break;
        if (hash) hash->update(buf.get(), static_cast<size_t>(n));
        write_all(out, buf.get(), static_cast<size_t>(n), display);
        total += static_cast<uint64_t>(n);
    }
    return total;
}
}  // namespace

uint64_t copy_data(int in, int out, const std::string &display, Sha256 *hash, bool kernel,
                   const struct stat *in_st) {
    if (in_st && may_have_holes(*in_st))
        return copy_sparse(in, out, static_cast<uint64_t>(in_st->st_size), display, hash, kernel);
    if (hash || !kernel) return copy_bytes(in, out, display, hash);
    uint64_t total = 0;
    for (;;) {
        ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if ((errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) && total == 0)
                return copy_bytes(in, out, display, nullptr);  // no kernel path here: plain copy
            fail_errno(errno, "copy_file_range", display);
        }
        if (n == 0) break;
        total += static_cast<uint64_t>(n);
    }
    return total;
}

std::vector<std::string> copy_xattrs(int in, int out) {
    std::vector<std::string> dropped;
    char small[1024];
    ssize_t len = ::flistxattr(in, small, sizeof small);
    if (len == 0 || (len < 0 && errno != ERANGE)) return dropped;  // the usual case: none
    std::string names(len > 0 ? small : "", len > 0 ? static_cast<size_t>(len) : 0);
    if (len < 0) {
        len = ::flistxattr(in, nullptr, 0);
        names.assign(len > 0 ? static_cast<size_t>(len) : 0, '\0');
        if (len <= 0 || (len = ::flistxattr(in, names.data(), names.size())) < 0) return dropped;
        names.resize(static_cast<size_t>(len));
    }
    for (size_t i = 0; i < names.size();) {
        std::string name = names.c_str() + i;
        i += name.size() + 1;
        ssize_t vlen = ::fgetxattr(in, name.c_str(), nullptr, 0);
        std::string value(vlen > 0 ? static_cast<size_t>(vlen) : 0, '\0');
        if (vlen < 0 || ::fgetxattr(in, name.c_str(), value.data(), value.size()) < 0 ||
            ::fsetxattr(out, name.c_str(), value.data(), value.size(), 0) != 0)
            dropped.push_back(name);
    }
    return dropped;
}

}  // namespace jvs
