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

// Hashes a file from its start with large sequential reads.
void set_fd_metadata(int fd, const struct stat &st, const std::string &dst) {
    if (running_as_root() && ::fchown(fd, st.st_uid, st.st_gid) != 0) fail_errno(errno, "fchown", dst);
    // After chown: chown clears setuid/setgid bits, so the exact mode goes last.
    if (::fchmod(fd, st.st_mode & 07777) != 0) fail_errno(errno, "fchmod", dst);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(fd, times) != 0) fail_errno(errno, "futimens", dst);
}
}  // namespace

CopyOutcome copy_file(const std::string &src, const std::string &dst, const struct stat &st, std::string *hash_out,
                      CopyMethod method) {
    UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in) fail_errno(errno, "open", src);
    UniqueFd out(::open(dst.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!out) fail_errno(errno, "create", dst);
    CopyOutcome r;
    if (method == CopyMethod::Reflink) {
        if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
            r.cloned = true;
            struct stat now {};
            if (::fstat(out.get(), &now) != 0) fail_errno(errno, "fstat", dst);
            r.bytes = static_cast<uint64_t>(now.st_size);
            if (hash_out) *hash_out = sha256_fd(out.get(), dst);
        } else if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY || errno == EPERM) {
            r.fell_back = true;
        } else {
            fail_errno(errno, "ioctl(FICLONE)", dst);
        }
    }
    if (!r.cloned)
        r.bytes = hash_out || method != CopyMethod::Kernel ? copy_bytes(in.get(), out.get(), src, dst, hash_out)
                                                           : copy_kernel(in.get(), out.get(), src, dst);
    if (::fstat(in.get(), &r.src_after) != 0) fail_errno(errno, "fstat", src);
    set_fd_metadata(out.get(), st, dst);
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
    std::vector<std::string> dropped;
    ssize_t len = ::llistxattr(src.c_str(), nullptr, 0);
    if (len <= 0) return dropped;
    std::string names(static_cast<size_t>(len), '\0');
    len = ::llistxattr(src.c_str(), names.data(), names.size());
    if (len <= 0) return dropped;
    names.resize(static_cast<size_t>(len));
    for (size_t i = 0; i < names.size();) {
        std::string name = names.c_str() + i;
        i += name.size() + 1;
        ssize_t vlen = ::lgetxattr(src.c_str(), name.c_str(), nullptr, 0);
        std::string value(vlen > 0 ? static_cast<size_t>(vlen) : 0, '\0');
        if (vlen < 0 || ::lgetxattr(src.c_str(), name.c_str(), value.data(), value.size()) < 0 ||
            ::lsetxattr(dst.c_str(), name.c_str(), value.data(), value.size(), 0) != 0)
            dropped.push_back(name);
    }
    return dropped;
}

}  // namespace jvs
