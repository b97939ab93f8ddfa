#include "engine/scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "util/context.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

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

    void walk_dir(int parent_fd, const char *name, const std::string &rel) {
        int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) fail_errno(errno, "open", path_join(root, rel));
        DIR *d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            fail_errno(errno, "opendir", path_join(root, rel));
        }
        std::vector<std::string> names;
        errno = 0;
        while (dirent *de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n == "." || n == "..") continue;
            if (rel.empty() && n == ".READY" && de->d_type != DT_DIR) {
                struct stat st {};  // d_type may be DT_UNKNOWN: ask the filesystem
                if (de->d_type != DT_UNKNOWN || ::fstatat(::dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                    !S_ISDIR(st.st_mode))
                    continue;
            }
            names.push_back(std::move(n));
        }
        std::sort(names.begin(), names.end());
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
        s.walk_dir(AT_FDCWD, root.c_str(), "");
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
