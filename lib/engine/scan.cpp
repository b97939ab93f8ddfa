#include "engine/scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "util/context.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/memory.hpp"
#include "util/names.hpp"
#include "util/parallel.hpp"

namespace jvs {

namespace {
constexpr std::string_view kReady = ".READY";
constexpr std::string_view kReadySuffix = ".jvs";

struct Scanner {
    const Dir &root;
    OpContext *ctx;
    TopReady ready;
    bool skip_control;  // a top-level `.jvs` is the repository's (adopted repositories)
    std::vector<ScanEntry> out;
    std::vector<std::string> special;

    std::string read_link(int dirfd, const char *name, const std::string &rel) {
        std::string buf(256, '\0');
        for (;;) {
            ssize_t n = ::readlinkat(dirfd, name, buf.data(), buf.size());
            if (n < 0) fail_errno(errno, "readlink", root.display(rel));
            if (static_cast<size_t>(n) < buf.size()) return buf.substr(0, static_cast<size_t>(n));
            buf.resize(buf.size() * 2);
        }
    }

    // Adds one entry; returns true if it is a directory to descend into.
    bool add(int dirfd, const char *name, const std::string &rel) {
        ScanEntry e;
        e.rel = rel;
        struct stat st {};
        if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(errno, "lstat", root.display(rel));
        e.st = ScanStat(st);
        if (S_ISDIR(e.st.st_mode)) {
            e.type = 'd';
        } else if (S_ISLNK(e.st.st_mode)) {
            e.type = 'l';
            e.link_target = read_link(dirfd, name, rel);
        } else if (S_ISREG(e.st.st_mode)) {
            e.type = 'f';
        } else {
            special.push_back(rel);
            return false;
        }
        out.push_back(std::move(e));
        if (ctx && out.size() % 4096 == 0) ctx->advance(4096);
        return out.back().type == 'd';
    }

    // The directory `fd` must be the one its parent's listing saw (`seen`): a component swapped
    // meanwhile (for a symlink: the open already failed; for another directory: here) would make
    // the listing describe something else.
    void check_same(int fd, const ScanStat &seen, const std::string &rel) {
        struct stat now {};
        if (::fstat(fd, &now) != 0) fail_errno(errno, "fstat", root.display(rel));
        if (now.st_dev != seen.st_dev || now.st_ino != seen.st_ino)
            fail("E_IO", "directory replaced while it was scanned: " + root.display(rel),
                 "retry when the tree is not being moved", {{"path", root.display(rel)}});
    }

    // Lists one directory: its entries (sorted, lstat'ed) appended to `out`; returns the indices in
    // `out` of the subdirectories.
    std::vector<size_t> list_dir(const std::string &rel, const ScanStat *seen) {
        UniqueFd fd = root.open(rel, O_RDONLY | O_DIRECTORY);
        if (seen) check_same(fd.get(), *seen, rel);
        return list_open(std::move(fd), rel);
    }

    std::vector<size_t> list_open(UniqueFd fd, const std::string &rel) {
        DIR *d = ::fdopendir(fd.get());
        if (!d) fail_errno(errno, "opendir", root.display(rel));
        fd.release();
        std::vector<size_t> subdirs;
        try {
            std::vector<std::string> names = read_names(d, rel.empty());
            out.reserve(out.size() + names.size());  // exact: a listing is kept until stitched
            for (const auto &n : names) {
                std::string child = rel.empty() ? n : rel + "/" + n;
                if (add(::dirfd(d), n.c_str(), child)) subdirs.push_back(out.size() - 1);
            }
        } catch (...) {
            ::closedir(d);
            throw;
        }
        ::closedir(d);
        return subdirs;
    }

    // Whether a top-level `.READY` (not a directory) is left out of the scan.
    bool skip_top_ready(int dirfd) const {
        if (ready == TopReady::Marker) return true;
        UniqueFd f(::openat(dirfd, ".READY", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        struct stat st {};
        if (!f || ::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4096) return false;
        char buf[4097];
        ssize_t n = ::pread(f.get(), buf, sizeof buf, 0);
        return n > 0 && is_snapshot_marker(std::string_view(buf, static_cast<size_t>(n)));
    }

    // Names in a directory, sorted bytewise; at the top, a `.READY` that is not a directory may be
    // control data (see TopReady).
    std::vector<std::string> read_names(DIR *d, bool top) const {
        std::vector<std::string> names;
        errno = 0;
        while (dirent *de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n == "." || n == "..") continue;
            if (top && skip_control && n == ".jvs") continue;
            if (top && n == kReady && de->d_type != DT_DIR) {
                struct stat st {};  // d_type may be DT_UNKNOWN: ask the filesystem
                bool is_dir = de->d_type == DT_UNKNOWN &&
                              ::fstatat(::dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
                if (!is_dir && skip_top_ready(::dirfd(d))) continue;
            }
            names.push_back(std::move(n));
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    // Depth-first below the directory `name` of `parent_fd`, which add() just lstat'ed as `seen`.
    void walk_dir(int parent_fd, const char *name, const std::string &rel, const ScanStat &seen) {
        int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            fail_entry(err == ENOTDIR ? ELOOP : err, "open", Entry{nullptr, parent_fd, name, root.display(rel)});
        }
        UniqueFd owned(fd);
        check_same(fd, seen, rel);
        DIR *d = ::fdopendir(fd);
        if (!d) fail_errno(errno, "opendir", root.display(rel));
        owned.release();
        std::vector<std::string> names = read_names(d, rel.empty());
        try {
            for (const auto &n : names) {
                std::string child = rel.empty() ? n : rel + "/" + n;
                if (add(::dirfd(d), n.c_str(), child))
                    walk_dir(::dirfd(d), n.c_str(), child, out.back().st);
            }
        } catch (...) {
            ::closedir(d);
            throw;
        }
        ::closedir(d);
    }
};
// The listings are freed as they are stitched, but the allocator keeps freed small blocks: without
// handing them back now and then, the stitched copy would cost a second tree's worth of memory.
constexpr size_t kTrimEvery = 16384;

// The whole tree, directories listed in parallel one level at a time (on FUSE and network
// filesystems each listing and lstat is a round trip; several in flight hide the latency), then
// stitched into pre-order.
std::vector<ScanEntry> scan_whole_tree(const Dir &root, OpContext *ctx, TopReady ready, bool skip_control,
                                       std::vector<std::string> &special) {
    struct Listing {
        std::vector<ScanEntry> entries;
        std::vector<size_t> subdirs;
    };
    std::unordered_map<std::string, Listing> listings;  // directory rel -> its children
    std::vector<std::pair<std::string, ScanStat>> level = {{"", {}}};
    while (!level.empty()) {
        std::vector<Scanner> parts(level.size(), Scanner{root, nullptr, ready, skip_control, {}, {}});
        std::vector<std::vector<size_t>> subs(level.size());
        parallel_for(level.size(), ctx, [&](size_t i) -> uint64_t {
            subs[i] = parts[i].list_dir(level[i].first, level[i].first.empty() ? nullptr : &level[i].second);
            return 0;
        });
        std::vector<std::pair<std::string, ScanStat>> next;
        for (size_t i = 0; i < level.size(); i++) {
            for (auto &x : parts[i].special) special.push_back(std::move(x));
            for (size_t k : subs[i]) next.emplace_back(parts[i].out[k].rel, parts[i].out[k].st);
            listings[level[i].first] = Listing{std::move(parts[i].out), std::move(subs[i])};
        }
        level = std::move(next);
    }
    std::vector<ScanEntry> out;
    size_t total = 0;
    for (const auto &[dir, l] : listings) total += l.entries.size();
    out.reserve(total);  // exact: no growth by doubling (three times a million entries at once)
    // Pre-order: each entry, then (for a directory) its own children, siblings in name order. A
    // listing is dropped once stitched, so the tree is held about once, not twice.
    size_t stitched = 0;
    std::function<void(const std::string &)> emit = [&](const std::string &dir) {
        auto node = listings.extract(dir);
        if (node.empty()) return;
        auto &l = node.mapped();
        stitched += l.entries.size();
        if (stitched >= kTrimEvery) stitched = 0, release_free_memory();
        size_t next_sub = 0;
        for (size_t i = 0; i < l.entries.size(); i++) {
            bool is_dir = next_sub < l.subdirs.size() && l.subdirs[next_sub] == i;
            out.push_back(std::move(l.entries[i]));
            if (is_dir) {
                next_sub++;
                emit(out.back().rel);
            }
        }
    };
    emit("");
    release_free_memory();
    if (ctx) ctx->advance(0);
    return out;
}

// How many `.jvs` follow `.READY` in a first path component, or -1 when it is not of that family.
int ready_family_depth(std::string_view first) {
    if (first.substr(0, kReady.size()) != kReady) return -1;
    first.remove_prefix(kReady.size());
    int k = 0;
    for (; !first.empty(); k++) {
        if (first.substr(0, kReadySuffix.size()) != kReadySuffix) return -1;
        first.remove_prefix(kReadySuffix.size());
    }
    return k;
}

std::string_view first_component(const std::string &rel) { return std::string_view(rel).substr(0, rel.find('/')); }
}  // namespace

namespace {
int64_t to_ns(const struct timespec &t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }
struct timespec to_timespec(int64_t ns) {
    // Floor division: a time before 1970 keeps tv_nsec in [0, 1e9).
    int64_t sec = ns / 1000000000LL, rem = ns % 1000000000LL;
    if (rem < 0) sec--, rem += 1000000000LL;
    return {static_cast<time_t>(sec), static_cast<long>(rem)};
}
}  // namespace

ScanStat::ScanStat(const struct stat &st)
    : st_dev(static_cast<uint64_t>(st.st_dev)),
      st_ino(static_cast<uint64_t>(st.st_ino)),
      st_size(static_cast<int64_t>(st.st_size)),
      atime_ns(to_ns(st.st_atim)),
      mtime_ns(to_ns(st.st_mtim)),
      ctime_ns(to_ns(st.st_ctim)),
      st_mode(static_cast<uint32_t>(st.st_mode)),
      st_nlink(static_cast<uint32_t>(st.st_nlink)),
      st_uid(static_cast<uint32_t>(st.st_uid)),
      st_gid(static_cast<uint32_t>(st.st_gid)) {}

ScanStat::operator struct stat() const {
    struct stat st {};
    st.st_dev = static_cast<dev_t>(st_dev);
    st.st_ino = static_cast<ino_t>(st_ino);
    st.st_size = static_cast<off_t>(st_size);
    st.st_atim = to_timespec(atime_ns);
    st.st_mtim = to_timespec(mtime_ns);
    st.st_ctim = to_timespec(ctime_ns);
    st.st_mode = static_cast<mode_t>(st_mode);
    st.st_nlink = static_cast<nlink_t>(st_nlink);
    st.st_uid = static_cast<uid_t>(st_uid);
    st.st_gid = static_cast<gid_t>(st_gid);
    return st;
}

bool is_snapshot_marker(std::string_view bytes) {
    auto j = nlohmann::json::parse(bytes, nullptr, false);
    return j.is_object() && j.contains("snapshot_id") && j.contains("payload_root_hash");
}

std::string stored_rel(const std::string &worktree_rel) {
    std::string_view first = first_component(worktree_rel);
    if (ready_family_depth(first) < 0) return worktree_rel;
    return std::string(first) + std::string(kReadySuffix) + worktree_rel.substr(first.size());
}

std::optional<std::string> worktree_rel(const std::string &stored) {
    std::string_view first = first_component(stored);
    int k = ready_family_depth(first);
    if (k < 0) return stored;
    if (k == 0) return std::nullopt;  // the marker (or, for a directory, nothing a snapshot holds)
    return std::string(first.substr(0, first.size() - kReadySuffix.size())) + stored.substr(first.size());
}

bool renamed_in_snapshots(const std::string &worktree_rel) {
    return ready_family_depth(first_component(worktree_rel)) >= 0;
}

void rename_ready_for_snapshot(const Dir &tree) {
    std::vector<std::pair<int, std::string>> family;
    for (auto &n : tree.list())
        if (int k = ready_family_depth(n); k >= 0) family.emplace_back(k, std::move(n));
    std::sort(family.rbegin(), family.rend());  // longest first: each new name is free
    for (const auto &[k, n] : family) {
        if (k == 0) {
            auto raw = tree.read_small_file(n, 4097);
            if (raw && raw->size() <= 4096 && is_snapshot_marker(*raw)) {  // the Go tool's leftover
                tree.unlink(n);
                continue;
            }
        }
        tree.rename(n, n + std::string(kReadySuffix), RENAME_NOREPLACE);
    }
}

void rename_ready_for_worktree(const Dir &tree) {
    tree.unlink(std::string(kReady));  // the snapshot's marker
    std::vector<std::pair<int, std::string>> family;
    for (auto &n : tree.list())
        if (int k = ready_family_depth(n); k > 0) family.emplace_back(k, std::move(n));
    std::sort(family.begin(), family.end());  // shortest first: each new name is free
    for (const auto &[k, n] : family) tree.rename(n, n.substr(0, n.size() - kReadySuffix.size()), RENAME_NOREPLACE);
}

bool path_less(const std::string &a, const std::string &b) {
    // Component-wise order is byte order with '/' below every other byte: where two paths first
    // differ, a '/' ends a component that the other path's component continues (shorter first).
    auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (ia == a.end() || ib == b.end()) return ia == a.end() && ib != b.end();
    if (*ia == '/' || *ib == '/') return *ia == '/';
    return static_cast<unsigned char>(*ia) < static_cast<unsigned char>(*ib);
}

std::vector<ScanEntry> scan_tree(const Dir &root, const std::vector<std::string> &only_paths, OpContext *ctx,
                                 TopReady ready, bool skip_control) {
    Scanner s{root, ctx, ready, skip_control, {}, {}};
    if (only_paths.empty()) {
        s.out = scan_whole_tree(root, ctx, ready, skip_control, s.special);
    } else {
        std::set<std::string> seen;
        for (const auto &p : only_paths) {
            if (skip_control && in_control_dir(p))
                fail("E_PATH_INVALID", "path '" + p + "' is the repository's control directory, not worktree content",
                     "leave .jvs out of the paths", {{"path", p}});
            // Ancestors first, so the partial tree is self-contained; each must be a directory (a
            // symlink there fails: the path would lead through it).
            for (size_t pos = p.find('/'); pos != std::string::npos; pos = p.find('/', pos + 1)) {
                std::string anc = p.substr(0, pos);
                if (!seen.insert(anc).second) continue;
                Entry e = root.entry(anc);
                auto st = entry_lstat(e);
                if (st && S_ISLNK(st->st_mode)) fail_entry(ELOOP, "open", e);
                if (!st || !S_ISDIR(st->st_mode))
                    fail("E_PATH_NOT_FOUND", "path '" + p + "': '" + anc + "' is not a directory",
                         "check the path; paths are relative to the worktree root", {{"path", p}});
                s.add(e.dirfd, e.name.c_str(), anc);
            }
            if (!seen.insert(p).second) continue;
            if (!root.lstat(p))
                fail("E_PATH_NOT_FOUND", "path '" + p + "' does not exist in the worktree",
                     "check the spelling; paths are relative to the worktree root", {{"path", p}});
            Entry e = root.entry(p);
            if (s.add(e.dirfd, e.name.c_str(), p)) s.walk_dir(e.dirfd, e.name.c_str(), p, s.out.back().st);
        }
        // Drop duplicates that a directory path and a path inside it both produced.
        std::sort(s.out.begin(), s.out.end(), [](const ScanEntry &a, const ScanEntry &b) { return path_less(a.rel, b.rel); });
        s.out.erase(std::unique(s.out.begin(), s.out.end(), [](const ScanEntry &a, const ScanEntry &b) { return a.rel == b.rel; }),
                    s.out.end());
    }
    if (!s.special.empty()) {
        nlohmann::json paths = nlohmann::json::array();
        for (size_t i = 0; i < s.special.size() && i < 20; i++) paths.push_back(s.special[i]);
        fail("E_SPECIAL_FILE",
             std::to_string(s.special.size()) + " special file(s) (FIFO, socket or device) found, e.g. " +
                 root.display(s.special[0]),
             "jvs versions regular files, directories and symlinks; move special files out of the worktree",
             {{"paths", paths}, {"count", s.special.size()}});
    }
    return std::move(s.out);
}

std::vector<ScanEntry> scan_tree(const std::string &root, const std::vector<std::string> &only_paths, OpContext *ctx,
                                 TopReady ready, bool skip_control) {
    return scan_tree(Dir::open_root(root), only_paths, ctx, ready, skip_control);
}

}  // namespace jvs
