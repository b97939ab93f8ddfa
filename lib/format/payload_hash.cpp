// internal/integrity/payload_hash.go (UPSTREAM_FACTS section 4), byte for byte, except that FIFOs,
// sockets and devices are refused instead of being opened (Go would hang on a FIFO or hash a device).
#include "format/payload_hash.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

constexpr std::string_view kReady = ".READY";

std::string_view basename_of(std::string_view rel) {
    const size_t slash = rel.rfind('/');
    return slash == std::string_view::npos ? rel : rel.substr(slash + 1);
}

// Walks one tree through directory fds (openat/fstatat), so each entry costs a one-component lookup.
class Walker {
   public:
    explicit Walker(std::string root) : root_(std::move(root)), buf_(kIoBufferSize) {}

    std::vector<PayloadEntry> run() {
        struct stat st {};
        if (::lstat(root_.c_str(), &st) != 0) fail_errno(errno, "lstat", root_);
        // filepath.Walk does not descend into a root that is not a directory (e.g. a symlink to one):
        // the tree then has no entries.
        if (S_ISDIR(st.st_mode)) walk(open_dir(AT_FDCWD, root_, root_), "");
        return std::move(entries_);
    }

   private:
    std::string root_;
    std::vector<char> buf_;
    std::vector<PayloadEntry> entries_;

    std::string full(const std::string &rel) const { return path_join(root_, rel); }

    static UniqueFd open_dir(int dirfd, const std::string &name, const std::string &path) {
        UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) fail_errno(errno, "open", path);
        return fd;
    }

    // Entry names in byte order (filepath.Walk sorts each directory's names).
    std::vector<std::string> names(int dirfd, const std::string &path) {
        int dup_fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
        if (dup_fd < 0) fail_errno(errno, "dup", path);
        DIR *dir = ::fdopendir(dup_fd);
        if (!dir) {
            ::close(dup_fd);
            fail_errno(errno, "opendir", path);
        }
        std::vector<std::string> out;
        errno = 0;
        while (const dirent *e = ::readdir(dir)) {
            const std::string_view n = e->d_name;
            if (n != "." && n != "..") out.emplace_back(n);
        }
        const int err = errno;
        ::closedir(dir);
        if (err != 0) fail_errno(err, "readdir", path);
        std::sort(out.begin(), out.end());
        return out;
    }

    void walk(UniqueFd dirfd, const std::string &rel_dir) {
        for (const std::string &name : names(dirfd.get(), full(rel_dir))) {
            const std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
            struct stat st {};
            if (::fstatat(dirfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(errno, "lstat", full(rel));
            const bool dir = S_ISDIR(st.st_mode);
            // A ".READY" entry gets no line, but a directory of that name is still descended into.
            if (name != kReady) entries_.push_back(entry(dirfd.get(), name, rel, st));
            if (dir) walk(open_dir(dirfd.get(), name, full(rel)), rel);
        }
    }

    PayloadEntry entry(int dirfd, const std::string &name, const std::string &rel, const struct stat &st) {
        PayloadEntry e;
        e.rel = rel;
        e.perm = st.st_mode & 0777;
        if (S_ISDIR(st.st_mode)) {
            e.type = 'd';
            e.hash = sha256_hex(name);
        } else if (S_ISLNK(st.st_mode)) {
            e.type = 'l';
            e.hash = sha256_hex(link_target(dirfd, name, st, full(rel)));
        } else if (S_ISREG(st.st_mode)) {
            e.type = 'f';
            e.size = static_cast<uint64_t>(st.st_size);
            e.hash = file_hash(dirfd, name, full(rel));
        } else {
            fail("E_SPECIAL_FILE", "cannot hash special file (FIFO, socket or device): " + full(rel),
                 "remove or move the special file out of the worktree, then retry", {{"path", full(rel)}});
        }
        return e;
    }

    static std::string link_target(int dirfd, const std::string &name, const struct stat &st, const std::string &path) {
        std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256), '\0');
        for (;;) {
            ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
            if (n < 0) fail_errno(errno, "readlink", path);
            if (static_cast<size_t>(n) < target.size()) {
                target.resize(static_cast<size_t>(n));
                return target;
            }
            target.resize(target.size() * 2);  // the link changed size since lstat
        }
    }

    // O_NONBLOCK: if the file was swapped for a FIFO after the lstat, open must not wait for a writer;
    // the fstat check then refuses it. Regular-file reads ignore the flag.
    std::string file_hash(int dirfd, const std::string &name, const std::string &path) {
        UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
        if (!fd) fail_errno(errno, "open", path);
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) fail_errno(errno, "fstat", path);
        if (!S_ISREG(st.st_mode)) fail("E_SPECIAL_FILE", "not a regular file any more: " + path, "retry", {{"path", path}});
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
        Sha256 h;
        for (;;) {
            ssize_t n = ::read(fd.get(), buf_.data(), buf_.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail_errno(errno, "read", path);
            if (n == 0) break;
            h.update(buf_.data(), static_cast<size_t>(n));
        }
        return h.hex();
    }
};

}  // namespace

std::string payload_line(const PayloadEntry &e) {
    const char *type = e.type == 'd' ? "dir" : e.type == 'l' ? "symlink" : "file";
    char meta[64];
    if (e.type == 'f') {
        std::snprintf(meta, sizeof meta, "mode=%04o,size=%llu", e.perm, static_cast<unsigned long long>(e.size));
    } else {
        std::snprintf(meta, sizeof meta, "mode=%04o", e.perm);
    }
    return std::string(type) + ":" + e.rel + ":" + meta + ":" + e.hash;
}

std::string payload_root_hash(const std::vector<PayloadEntry> &entries) {
    std::vector<std::string> lines;
    lines.reserve(entries.size());
    for (const auto &e : entries)
        if (basename_of(e.rel) != kReady) lines.push_back(payload_line(e));
    std::sort(lines.begin(), lines.end());  // whole lines, byte order (Go sort.Strings)
    Sha256 h;
    for (const auto &line : lines) {
        h.update(line);
        h.update("\n", 1);
    }
    return h.hex();
}

std::string payload_root_hash_of_dir(const std::string &root) { return payload_root_hash(Walker(root).run()); }

}  // namespace jvs
