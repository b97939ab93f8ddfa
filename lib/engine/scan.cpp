#include "engine/scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <set>
#include <unordered_map>

#include "util/context.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"

namespace jvs {

namespace {
struct Scanner {
    std::string root;
    OpContext *ctx;
    std::vector<ScanEntry> out;
    std::vector<std::string> special;

    std::string read_link(int dirfd, const char *name, const std::string &rel) {
        std::string buf(256, '\0');
        for (;;) {
            ssize_t n = ::readlinkat(dirfd, name, buf.data(), buf.size());
            if (n < 0) fail_errno(errno, "readlink", path_join(root, rel));
            if (static_cast<size_t>(n) < buf.size()) return buf.substr(0, static_cast<size_t>(n));
            buf.resize(buf.size() * 2);
        }
    }

    // Adds one entry; returns true if it is a directory to descend into.
    bool add(int dirfd, const char *name, const std::string &rel) {
        ScanEntry e;
        e.rel = rel;
        if (::fstatat(dirfd, name, &e.st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(errno, "lstat", path_join(root, rel));
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

    // Lists one directory: its entries (sorted, lstat'ed) appended to `out`; returns the indices in
    // `out` of the subdirectories.
    // `seen` is the directory's stat from its parent's listing: the directory opened by path must be
    // that one (a component swapped for a symlink meanwhile would lead elsewhere).
    std::vector<size_t> list_dir(const std::string &rel, const struct stat *seen) {
        std::string path = rel.empty() ? root : path_join(root, rel);
        int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) fail_errno(errno, "open", path);
        struct stat now {};
        if (seen && (::fstat(fd, &now) != 0 || now.st_dev != seen->st_dev || now.st_ino != seen->st_ino)) {
            ::close(fd);
            fail("E_IO", "directory replaced while it was scanned: " + path, "retry when the tree is not being moved",
                 {{"path", path}});
        }
        DIR *d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            fail_errno(errno, "opendir", path);
        }
        std::vector<size_t> subdirs;
        try {
            for (const auto &n : read_names(d, rel.empty())) {
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

    // Names in a directory, sorted bytewise; at the top, a `.READY` that is not a directory is skipped.
    static std::vector<std::string> read_names(DIR *d, bool top) {
        std::vector<std::string> names;
        errno = 0;
        while (dirent *de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n == "." || n == "..") continue;
            if (top && n == ".READY" && de->d_type != DT_DIR) {
                struct stat st {};  // d_type may be DT_UNKNOWN: ask the filesystem
                if (de->d_type != DT_UNKNOWN || ::fstatat(::dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                    !S_ISDIR(st.st_mode))
                    continue;
            }
            names.push_back(std::move(n));
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    void walk_dir(int parent_fd, const char *name, const std::string &rel) {
        int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) fail_errno(errno, "open", path_join(root, rel));
        DIR *d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            fail_errno(errno, "opendir", path_join(root, rel));
        }
        std::vector<std::string> names = read_names(d, rel.empty());
        try {
            for (const auto &n : names) {
                std::string child = rel.empty() ? n : rel + "/" + n;
                if (add(::dirfd(d), n.c_str(), child)) walk_dir(::dirfd(d), n.c_str(), child);
            }
        } catch (...) {
            ::closedir(d);
            throw;
        }
        ::closedir(d);
    }
};
// The whole tree, directories listed in parallel one level at a time (on FUSE and network
// filesystems each listing and lstat is a round trip; several in flight hide the latency), then
// stitched into pre-order.
std::vector<ScanEntry> scan_whole_tree(const std::string &root, OpContext *ctx, std::vector<std::string> &special) {
    struct Listing {
        std::vector<ScanEntry> entries;
        std::vector<size_t> subdirs;
    };
    std::unordered_map<std::string, Listing> listings;  // directory rel -> its children
    std::vector<std::pair<std::string, struct stat>> level = {{"", {}}};
    while (!level.empty()) {
        std::vector<Scanner> parts(level.size(), Scanner{root, nullptr, {}, {}});
        std::vector<std::vector<size_t>> subs(level.size());
        parallel_for(level.size(), ctx, [&](size_t i) -> uint64_t {
            subs[i] = parts[i].list_dir(level[i].first, level[i].first.empty() ? nullptr : &level[i].second);
            return 0;
        });
        std::vector<std::pair<std::string, struct stat>> next;
        for (size_t i = 0; i < level.size(); i++) {
            for (auto &x : parts[i].special) special.push_back(std::move(x));
            for (size_t k : subs[i]) next.emplace_back(parts[i].out[k].rel, parts[i].out[k].st);
            listings[level[i].first] = Listing{std::move(parts[i].out), std::move(subs[i])};
        }
        level = std::move(next);
    }
    std::vector<ScanEntry> out;
    // Pre-order: each entry, then (for a directory) its own children, siblings in name order.
    std::function<void(const std::string &)> emit = [&](const std::string &dir) {
        auto &l = listings[dir];
        size_t next_sub = 0;
        for (size_t i = 0; i < l.entries.size(); i++) {
            bool is_dir = next_sub < l.subdirs.size() && l.subdirs[next_sub] == i;
            std::string rel = l.entries[i].rel;
            out.push_back(std::move(l.entries[i]));
            if (is_dir) {
                next_sub++;
                emit(rel);
            }
        }
    };
    emit("");
    if (ctx) ctx->advance(0);
    return out;
}
}  // namespace

bool path_less(const std::string &a, const std::string &b) {
    size_t i = 0, j = 0;
    for (;;) {
        size_t ai = a.find('/', i), bj = b.find('/', j);
        std::string_view ca = std::string_view(a).substr(i, ai == std::string::npos ? std::string::npos : ai - i);
        std::string_view cb = std::string_view(b).substr(j, bj == std::string::npos ? std::string::npos : bj - j);
        if (ca != cb) return ca < cb;
        if (ai == std::string::npos || bj == std::string::npos) return ai == std::string::npos && bj != std::string::npos;
        i = ai + 1;
        j = bj + 1;
    }
}

std::vector<ScanEntry> scan_tree(const std::string &root, const std::vector<std::string> &only_paths, OpContext *ctx) {
    Scanner s{root, ctx, {}, {}};
    if (only_paths.empty()) {
        s.out = scan_whole_tree(root, ctx, s.special);
    } else {
        std::set<std::string> seen;
        for (const auto &p : only_paths) {
            // Ancestors first, so the partial tree is self-contained.
            for (size_t pos = p.find('/'); pos != std::string::npos; pos = p.find('/', pos + 1)) {
                std::string anc = p.substr(0, pos);
                if (seen.insert(anc).second) s.add(AT_FDCWD, path_join(root, anc).c_str(), anc);
            }
            if (!seen.insert(p).second) continue;
            std::string full = path_join(root, p);
            if (!exists_nofollow(full))
                fail("E_PATH_NOT_FOUND", "path '" + p + "' does not exist in the worktree",
                     "check the spelling; paths are relative to the worktree root", {{"path", p}});
            if (s.add(AT_FDCWD, full.c_str(), p)) s.walk_dir(AT_FDCWD, full.c_str(), p);
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
                 path_join(root, s.special[0]),
             "jvs versions regular files, directories and symlinks; move special files out of the worktree",
             {{"paths", paths}, {"count", s.special.size()}});
    }
    return std::move(s.out);
}

}  // namespace jvs
