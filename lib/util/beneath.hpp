// File access beneath a directory: every file jvs touches inside a worktree, a snapshot or a staging
// tree is reached from a directory file descriptor, never through a joined path string, and no
// symlink inside the tree is ever followed. Modelled on Linux openat2(2) RESOLVE_BENEATH, Go's
// os.Root and systemd's chase().
//
// Resolution of a relative path `rel` below a Dir:
//   - openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where the kernel has
//     it (Linux 5.6+; probed at the first call, ENOSYS or a seccomp EPERM switch it off for good);
//   - else a walk: each intermediate component opened with openat(O_PATH | O_DIRECTORY |
//     O_NOFOLLOW) from the previous one, the final one with O_NOFOLLOW.
// Either way a symlink anywhere in `rel` (also the final component, unless asked for the link
// itself) fails with ELOOP, which the layer reports as E_PATH_ESCAPE. `rel` must be '/'-separated
// with no empty, "." or ".." component and no NUL (E_PATH_INVALID otherwise); "" is the directory
// itself.
//
// What this guarantees: every create, write, read, delete, rename, link, chmod, chown, utimes and
// xattr call acts on an entry of a directory inode that was reached from the root without leaving it
// (no "..", no symlink, no magic link). What it cannot: a directory the caller already holds open
// that a concurrent process renames elsewhere stays the same inode, so calls through that fd act
// where it now is. Only a process allowed to move that directory can do that, and it could as well
// write or delete its entries itself; jvs never follows it anywhere else (docs/ARCHITECTURE.md,
// "Touching only what is inside").
#pragma once
#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/fs.hpp"

namespace jvs {

class Sha256;

// Whether resolution uses openat2 (true) or the component walk. Tests force the walk to cover it.
bool beneath_uses_openat2();
void beneath_force_walk(bool on);

// Splits "a/b/c" into ("a/b", "c"); "c" into ("", "c").
std::pair<std::string_view, std::string_view> split_parent(std::string_view rel);
// Throws E_PATH_INVALID unless `rel` is "" or '/'-separated components that are not "", "." or "..",
// without NUL.
void check_beneath_rel(std::string_view rel);

// The names in an open directory, sorted bytewise, without "." and ".." (listed through a description
// of its own, so threads may list one directory fd at once); empty when it cannot be read.
std::vector<std::string> list_names(int dirfd);

// One directory entry to act on: the directory holding it (an fd reached beneath a root, kept open
// by `hold` when the entry owns it) and the entry's name there (a single component).
struct Entry {
    std::shared_ptr<const UniqueFd> hold;
    int dirfd = -1;
    std::string name;
    std::string display;  // for messages only
};

class Dir {
   public:
    Dir() = default;
    Dir(UniqueFd fd, std::string display) : fd_(std::move(fd)), display_(std::move(display)) {}

    // Opens the root of a tree by path: its parent components are the caller's (the repository's
    // own location, resolved normally); the final one must be a directory and not a symlink
    // (E_PATH_ESCAPE). Opened O_RDONLY, so it can be listed and fchmod'ed.
    static Dir open_root(const std::string &path);
    static std::optional<Dir> open_root_if_exists(const std::string &path);

    int fd() const { return fd_.get(); }
    explicit operator bool() const { return static_cast<bool>(fd_); }
    const std::string &display() const { return display_; }
    std::string display(std::string_view rel) const;
    struct stat stat_self() const;

    // ---- resolution (never follows a symlink; ELOOP/EXDEV become E_PATH_ESCAPE) ----
    // The directory at `rel` ("" = a new descriptor of this one), O_RDONLY. E_PATH_ESCAPE when a
    // component is a symlink, E_IO (ENOENT, ENOTDIR...) otherwise.
    Dir dir(std::string_view rel) const;
    std::optional<Dir> dir_if_exists(std::string_view rel) const;  // nullopt: absent, or below a file
    // open(2) of `rel` with `flags` (O_CLOEXEC and O_NOFOLLOW added). Throws.
    UniqueFd open(std::string_view rel, int flags, mode_t mode = 0) const;
    // The same, returning -1 with errno set instead of throwing (the caller decides what an errno means).
    int try_open(std::string_view rel, int flags, mode_t mode = 0) const;
    // A regular file for reading: O_RDONLY | O_NONBLOCK (a FIFO swapped in cannot hang the open),
    // fstat into *st; E_SPECIAL_FILE for anything but a regular file.
    UniqueFd open_regular(std::string_view rel, struct stat *st = nullptr) const;
    // lstat semantics: the entry itself, never a link's target; nullopt when it does not exist
    // (ENOENT, or a component is not a directory). A symlink in an intermediate component throws.
    std::optional<struct stat> lstat(std::string_view rel) const;
    std::string read_link(std::string_view rel) const;
    // A small regular file's bytes (at most `max`), nullopt when absent or not a regular file.
    std::optional<std::string> read_small_file(std::string_view rel, size_t max) const;
    // Names in the directory at `rel`, sorted bytewise, without "." and "..".
    std::vector<std::string> list(std::string_view rel = {}) const;

    // The directory holding `rel` and the name there (the parent opened O_PATH beneath this one).
    Entry entry(std::string_view rel) const;

    // ---- changes (each relative to a parent reached beneath this directory) ----
    // mkdir with exact mode bits (fchmod after, no umask loss); false if a directory already stood
    // there (its mode untouched). EEXIST on anything else throws.
    bool mkdir(std::string_view rel, mode_t mode) const;
    void symlink(const std::string &target, std::string_view rel) const;
    // unlink a file or symlink; false when already absent.
    bool unlink(std::string_view rel) const;
    // rename within this tree; `flags` for renameat2 (RENAME_NOREPLACE...).
    void rename(std::string_view from, std::string_view to, unsigned flags = 0) const;
    // rm -rf of `rel` (absent is fine, also below a missing parent or a file; a symlink is removed,
    // never followed; a symlink among its parents throws E_PATH_ESCAPE). Each directory is
    // opened O_NOFOLLOW | O_DIRECTORY from its parent's fd and must be the inode its parent's
    // listing showed, else E_IO: something swapped it meanwhile.
    void remove_tree(std::string_view rel) const;
    // utimensat(AT_SYMLINK_NOFOLLOW) and fchownat(AT_SYMLINK_NOFOLLOW): work on symlinks too.
    void set_times(std::string_view rel, const struct timespec times[2]) const;
    void chown(std::string_view rel, uid_t uid, gid_t gid) const;

   private:
    UniqueFd fd_;
    std::string display_;
};

// ---- entry operations (for callers that hold parents in a DirCache) ----
void entry_link(const Entry &from, const Entry &to);  // linkat without following; throws
// linkat; false when the filesystem refuses (EMLINK link limit, EXDEV, EPERM, EOPNOTSUPP, ENOENT).
bool entry_try_link(const Entry &from, const Entry &to);
void entry_rename(const Entry &from, const Entry &to, unsigned flags = 0);
bool entry_unlink(const Entry &e);  // false when absent
void entry_remove_tree(const Entry &e);
std::optional<struct stat> entry_lstat(const Entry &e);
UniqueFd entry_open(const Entry &e, int flags, mode_t mode = 0);  // O_CLOEXEC | O_NOFOLLOW added; throws
void entry_symlink(const std::string &target, const Entry &e);
void entry_set_times(const Entry &e, const struct timespec times[2]);
void entry_chown(const Entry &e, uid_t uid, gid_t gid);
[[noreturn]] void fail_entry(int err, const char *call, const Entry &e);

// The directories of one tree, each opened once (O_PATH, beneath the root) and kept in a small
// LRU: the per-file calls of a bulk operation (link, rename, unlink, create) are single-component
// *at calls on a cached parent instead of a walk per file. Thread-safe.
class DirCache {
   public:
    explicit DirCache(const Dir &root, size_t capacity = 128) : root_(root), capacity_(capacity) {}
    Entry entry(std::string_view rel);
    const Dir &root() const { return root_; }

   private:
    std::shared_ptr<const UniqueFd> parent(std::string_view dir_rel);
    const Dir &root_;
    size_t capacity_;
    std::mutex mu_;
    std::list<std::string> order_;  // most recent first
    std::unordered_map<std::string, std::pair<std::shared_ptr<const UniqueFd>, std::list<std::string>::iterator>> map_;
};

// ---- data between two open files ----
// FICLONE: `out` shares `in`'s extents (atomic per file on XFS and btrfs: the source's inode lock
// is held across the clone). false when the filesystem refuses (EOPNOTSUPP, EXDEV, EINVAL, ENOTTY,
// EPERM); other errors throw.
bool clone_data(int in, int out, const std::string &display);
// Writes all `n` bytes at `out`'s offset (retrying short writes and EINTR); errors throw.
void write_all(int out, const char *p, size_t n, const std::string &display);
// Copies all of `in` (from its current offset) to `out`: with `hash`, read + hash + write from one
// buffer; else `kernel` uses copy_file_range (read/write where it is refused), otherwise read/write.
// With `in_st` (its fstat) showing holes, the whole file is copied from offset 0 keeping its holes
// (util/holes.hpp: holes are neither read nor written; they hash as zeros).
uint64_t copy_data(int in, int out, const std::string &display, Sha256 *hash, bool kernel,
                   const struct stat *in_st = nullptr);
// Extended attributes from one open file to another; the names that could not be kept. Symlinks
// have no usable fd (O_PATH cannot carry xattr calls) and Linux forbids user.* attributes on them,
// so symlink xattrs are not copied (documented).
std::vector<std::string> copy_xattrs(int in, int out);

}  // namespace jvs
