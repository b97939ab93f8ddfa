#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "engine/engine.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/holes.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {
bool running_as_root() {
    static const bool root = ::geteuid() == 0;
    return root;
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

}  // namespace

CopyOutcome copy_file(const Dir &src_root, const std::string &src_rel, const Entry &dst, std::string *hash_out,
                      CopyMethod method, int attempts) {
    struct stat before {};
    UniqueFd in = src_root.open_regular(src_rel, &before);
    const std::string src = src_root.display(src_rel);
    // Created with its final permission bits where the umask allows, so fchmod is usually not needed.
    UniqueFd out = entry_open(dst, O_RDWR | O_CREAT | O_EXCL, before.st_mode & 0777);
    CopyOutcome r;
    struct stat created {};
    bool refused = false;
    for (;;) {
        r.reads++;
        r.started_ns = stamp_clock_ns();  // before any byte is taken
        r.cloned = false;
        bool hash_source = false;
        if (method == CopyMethod::Reflink && !refused) {
            if (clone_data(in.get(), out.get(), dst.display)) {
                r.cloned = true;
                // The clone shares the source's blocks but not its page cache: hash the source (warm
                // after an edit) when the check below can prove both hold the same bytes.
                hash_source = hash_out && mtime_ns(before) < r.started_ns && ctime_ns(before) < r.started_ns;
                if (hash_out) *hash_out = sha256_fd(hash_source ? in.get() : out.get(), hash_source ? src : dst.display);
            } else {
                refused = r.fell_back = true;
            }
        }
        if (!r.cloned) {
            std::optional<Sha256> h;
            if (hash_out) h.emplace();
            r.bytes = copy_data(in.get(), out.get(), dst.display, h ? &*h : nullptr, method == CopyMethod::Kernel, &before);
            if (h) *hash_out = h->hex();
        }
        if (::fstat(out.get(), &created) != 0) fail_errno(errno, "fstat", dst.display);
        if (r.cloned) r.bytes = static_cast<uint64_t>(created.st_size);
        if (::fstat(in.get(), &r.src_after) != 0) fail_errno(errno, "fstat", src);
        // Taken whole only if nothing changed from before the first byte to after the last: any
        // write in between moves the ctime (and usually size and mtime) away from `before`'s. A
        // source hashed after its clone holds the clone's bytes by the same argument.
        bool whole = StatKey::of(r.src_after) == StatKey::of(before) && r.bytes == static_cast<uint64_t>(before.st_size);
        if (whole || r.reads >= attempts) {
            r.changed = !whole;
            if (hash_source && !whole) *hash_out = sha256_fd(out.get(), dst.display);
            break;
        }
        before = r.src_after;  // read it again, from the start
        if (::ftruncate(out.get(), 0) != 0) fail_errno(errno, "ftruncate", dst.display);
        if (::lseek(in.get(), 0, SEEK_SET) < 0 || ::lseek(out.get(), 0, SEEK_SET) < 0)
            fail_errno(errno, "lseek", dst.display);
    }
    r.stored = r.changed ? r.src_after : before;
    set_fd_metadata(out.get(), r.stored, dst.display, &created);
    r.dropped_xattrs = copy_xattrs(in.get(), out.get());  // after chown, which may clear some
    if (::fstat(out.get(), &r.dst_after) != 0) fail_errno(errno, "fstat", dst.display);
    r.holes_filled = holes_filled(r.stored, r.dst_after);
    return r;
}

bool try_hardlink(const Entry &existing, const Entry &dst) { return entry_try_link(existing, dst); }

void create_symlink(const std::string &target, const Entry &dst, const struct stat &st) {
    entry_symlink(target, dst);
    if (running_as_root()) entry_chown(dst, st.st_uid, st.st_gid);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    entry_set_times(dst, times);
}

void create_dir(const Entry &dst) {
    if (::mkdirat(dst.dirfd, dst.name.c_str(), 0700) == 0) return;
    int err = errno;
    auto st = entry_lstat(dst);
    if (err == EEXIST && st && S_ISDIR(st->st_mode)) return;
    fail_entry(err == EEXIST && st && S_ISLNK(st->st_mode) ? ELOOP : err, "mkdir", dst);
}

std::vector<std::string> finish_dir(const Dir &root, const std::string &rel, const struct stat &st, int xattr_src) {
    Dir d = root.dir(rel);
    std::vector<std::string> dropped;
    if (xattr_src >= 0) dropped = copy_xattrs(xattr_src, d.fd());
    set_fd_metadata(d.fd(), st, d.display());
    return dropped;
}

void apply_metadata(const Dir &root, const std::string &rel, const struct stat &st) {
    if (S_ISLNK(st.st_mode)) {
        struct timespec times[2] = {st.st_atim, st.st_mtim};
        root.set_times(rel, times);
        return;
    }
    UniqueFd fd = root.open(rel, O_RDONLY | O_NONBLOCK);
    set_fd_metadata(fd.get(), st, root.display(rel));
}

}  // namespace jvs
