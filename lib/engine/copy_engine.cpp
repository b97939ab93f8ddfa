#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "engine/engine.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {
bool running_as_root() {
    static const bool root = ::geteuid() == 0;
    return root;
}

void write_all(int fd, const char *p, size_t n, const std::string &path) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "write", path);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

// A read/write copy; with hash_out, hashed from the same buffer (one read of the source).
uint64_t copy_bytes(int in, int out, const std::string &src, const std::string &dst, std::string *hash_out) {
    thread_local std::unique_ptr<char[]> buf(new char[kIoBufferSize]);  // not zero-filled
    std::optional<Sha256> h;
    if (hash_out) h.emplace();
    uint64_t total = 0;
    for (;;) {
        ssize_t n = ::read(in, buf.get(), kIoBufferSize);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", src);
        }
        if (n == 0) break;
        if (h) h->update(buf.get(), static_cast<size_t>(n));
        write_all(out, buf.get(), static_cast<size_t>(n), dst);
        total += static_cast<uint64_t>(n);
    }
    if (h) *hash_out = h->hex();
    return total;
}

uint64_t copy_kernel(int in, int out, const std::string &src, const std::string &dst) {
    uint64_t total = 0;
    for (;;) {
        ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if ((errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) && total == 0)
                return copy_bytes(in, out, src, dst, nullptr);  // no kernel path here: plain copy
            fail_errno(errno, "copy_file_range", dst);
        }
        if (n == 0) break;
        total += static_cast<uint64_t>(n);
    }
    return total;
}

// Exact owner (as root), mode and times. `cur` is the file's present stat when known: an owner or
// mode that is already right is not set again (each setattr is a journal transaction).
void set_fd_metadata(int fd, const struct stat &st, const std::string &dst, const struct stat *cur = nullptr) {
    bool chown_needed = running_as_root() && (!cur || cur->st_uid != st.st_uid || cur->st_gid != st.st_gid);
    if (chown_needed && ::fchown(fd, st.st_uid, st.st_gid) != 0) fail_errno(errno, "fchown", dst);
    // After chown: chown clears setuid/setgid bits, so the exact mode goes last.
    if ((chown_needed || !cur || (cur->st_mode & 07777) != (st.st_mode & 07777)) &&
        ::fchmod(fd, st.st_mode & 07777) != 0)
        fail_errno(errno, "fchmod", dst);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(fd, times) != 0) fail_errno(errno, "futimens", dst);
}

// Extended attributes from one open file to another; the names that could not be kept.
std::vector<std::string> copy_fd_xattrs(int in, int out) {
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

}  // namespace

CopyOutcome copy_file(const std::string &src, const std::string &dst, const struct stat *meta, std::string *hash_out,
                      CopyMethod method) {
    struct stat own {};
    UniqueFd in = open_regular(src, &own);
    if (!meta) meta = &own;
    const struct stat &st = *meta;
    // Created with its final permission bits where the umask allows, so fchmod is usually not needed.
    UniqueFd out(::open(dst.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 0777));
    if (!out) fail_errno(errno, "create", dst);
    CopyOutcome r;
    r.started_ns = stamp_clock_ns();  // before any byte is taken
    bool hash_source = false;
    if (method == CopyMethod::Reflink) {
        if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
            r.cloned = true;
            r.bytes = static_cast<uint64_t>(st.st_size);
            // The clone shares the source's blocks but not its page cache: hash the source (warm
            // after an edit) when the check below can prove both hold the same bytes.
            hash_source = hash_out && mtime_ns(st) < r.started_ns && ctime_ns(st) < r.started_ns;
            if (hash_out) *hash_out = sha256_fd(hash_source ? in.get() : out.get(), hash_source ? src : dst);
        } else if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY || errno == EPERM) {
            r.fell_back = true;
        } else {
            fail_errno(errno, "ioctl(FICLONE)", dst);
        }
    }
    if (!r.cloned)
        r.bytes = hash_out || method != CopyMethod::Kernel ? copy_bytes(in.get(), out.get(), src, dst, hash_out)
                                                           : copy_kernel(in.get(), out.get(), src, dst);
    struct stat created {};
    if (::fstat(out.get(), &created) != 0) fail_errno(errno, "fstat", dst);
    if (r.cloned) r.bytes = static_cast<uint64_t>(created.st_size);
    if (::fstat(in.get(), &r.src_after) != 0) fail_errno(errno, "fstat", src);
    // A source hashed after the clone holds the clone's bytes only if it did not change from the
    // clone to now: any write in between would have moved its ctime to at least started_ns, past
    // st's. Otherwise the clone itself is hashed.
    if (hash_source && !(StatKey::of(r.src_after) == StatKey::of(st) && r.bytes == static_cast<uint64_t>(st.st_size)))
        *hash_out = sha256_fd(out.get(), dst);
    set_fd_metadata(out.get(), st, dst, &created);
    r.dropped_xattrs = copy_fd_xattrs(in.get(), out.get());  // after chown, which may clear some
    if (::fstat(out.get(), &r.dst_after) != 0) fail_errno(errno, "fstat", dst);
    return r;
}

bool try_hardlink(const std::string &existing, const std::string &dst) {
    if (::link(existing.c_str(), dst.c_str()) == 0) return true;
    if (errno == EMLINK || errno == EXDEV || errno == EPERM || errno == EOPNOTSUPP || errno == ENOENT) return false;
    fail_errno(errno, "link", dst);
}

void create_symlink(const std::string &target, const std::string &dst, const struct stat &st) {
    if (::symlink(target.c_str(), dst.c_str()) != 0) fail_errno(errno, "symlink", dst);
    if (running_as_root()) {
        if (::lchown(dst.c_str(), st.st_uid, st.st_gid) != 0) fail_errno(errno, "lchown", dst);
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(errno, "utimensat", dst);
}

void create_dir(const std::string &dst) {
    if (::mkdir(dst.c_str(), 0700) != 0) {
        if (errno == EEXIST && is_directory(dst)) return;
        fail_errno(errno, "mkdir", dst);
    }
}

void finish_dir(const std::string &dst, const struct stat &st) {
    UniqueFd fd(::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) fail_errno(errno, "open", dst);
    set_fd_metadata(fd.get(), st, dst);
}

void apply_metadata(const std::string &dst, const struct stat &st) {
    if (S_ISLNK(st.st_mode)) {
        struct timespec times[2] = {st.st_atim, st.st_mtim};
        if (::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(errno, "utimensat", dst);
        return;
    }
    UniqueFd fd(::open(dst.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) fail_errno(errno, "open", dst);
    set_fd_metadata(fd.get(), st, dst);
}

std::vector<std::string> copy_xattrs(const std::string &src, const std::string &dst) {
    UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    UniqueFd out(::open(dst.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!in || !out) return {};  // symlinks and vanished entries carry no xattrs jvs keeps
    return copy_fd_xattrs(in.get(), out.get());
}

}  // namespace jvs
