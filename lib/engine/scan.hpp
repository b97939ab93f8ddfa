// Tree scanning: lstat every entry (never following links), pre-order with siblings sorted bytewise.
#pragma once
#include <sys/stat.h>

#include <cstdint>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/beneath.hpp"

namespace jvs {

class OpContext;

// What jvs keeps of an lstat: the fields it uses, in 64 bytes instead of struct stat's 144 (a scan
// of a million files holds a million of them). It converts to a struct stat (times to the
// nanosecond) where a function takes one.
struct ScanStat {
    uint64_t st_dev = 0, st_ino = 0;
    int64_t st_size = 0;
    int64_t atime_ns = 0, mtime_ns = 0, ctime_ns = 0;
    uint32_t st_mode = 0, st_nlink = 0, st_uid = 0, st_gid = 0;

    ScanStat() = default;
    explicit ScanStat(const struct stat &st);
    operator struct stat() const;  // NOLINT: implicit, where a struct stat was taken before
};

// A symlink's target, held out of line: every other entry of a scan pays 8 bytes for it, not 32.
class LinkTarget {
   public:
    LinkTarget() = default;
    LinkTarget(const LinkTarget &o) : p_(o.p_ ? std::make_unique<std::string>(*o.p_) : nullptr) {}
    LinkTarget(LinkTarget &&) noexcept = default;
    LinkTarget &operator=(const LinkTarget &o) { return *this = LinkTarget(o); }
    LinkTarget &operator=(LinkTarget &&) noexcept = default;
    LinkTarget &operator=(std::string target) {
        p_ = std::make_unique<std::string>(std::move(target));
        return *this;
    }
    const std::string &str() const {
        static const std::string none;
        return p_ ? *p_ : none;
    }
    operator const std::string &() const { return str(); }  // NOLINT: reads as the string it replaces

   private:
    std::unique_ptr<std::string> p_;
};

struct ScanEntry {
    char type = 'f';          // 'd' | 'f' | 'l'
    std::string rel;          // '/'-separated, relative to the root
    ScanStat st;
    LinkTarget link_target;   // symlinks only
};

// What a top-level `.READY` is: in a snapshot directory, jvs's marker (skipped when it is not a
// directory); in a worktree, user data, except a leftover of the Go tool (its restore copied the
// snapshot's marker into worktrees), recognised by its content (is_snapshot_marker) and skipped.
enum class TopReady { Marker, UserData };

// Scans the tree below `root` (every directory opened beneath it and checked to be the inode its
// parent's listing showed, so a directory swapped for a symlink meanwhile fails the scan with
// E_PATH_ESCAPE or E_IO instead of leading it outside), or only `only_paths` (cleaned relative
// paths; their ancestor directories are included so the result is a self-contained tree; an
// ancestor that is a symlink throws E_PATH_ESCAPE). FIFOs, sockets and devices throw
// E_SPECIAL_FILE naming them, before anything is written; a missing only_path throws
// E_PATH_NOT_FOUND. `skip_control` (a worktree of an adopted repository, Repo::is_control_rel):
// a top-level `.jvs` is left out, and an only_path inside it throws E_PATH_INVALID.
std::vector<ScanEntry> scan_tree(const Dir &root, const std::vector<std::string> &only_paths, OpContext *ctx,
                                 TopReady ready = TopReady::Marker, bool skip_control = false);
std::vector<ScanEntry> scan_tree(const std::string &root, const std::vector<std::string> &only_paths,
                                 OpContext *ctx, TopReady ready = TopReady::Marker, bool skip_control = false);

// Whether the bytes of a top-level `.READY` are a snapshot marker (a JSON object naming a
// snapshot_id and a payload_root_hash).
bool is_snapshot_marker(std::string_view bytes);

// A user's top-level `.READY` in a snapshot directory, where `.READY` is the marker: a first path
// component `.READY` followed by k >= 0 times `.jvs` is stored with one more `.jvs` (`.READY` ->
// `.READY.jvs`, `.READY.jvs` -> `.READY.jvs.jvs`, ...), every other path as it is. One-to-one, so
// restore, fork and diff map it back; the Go tool sees an ordinary file (and hashes it as one).
std::string stored_rel(const std::string &worktree_rel);
// The inverse; nullopt for the marker itself (a top-level `.READY`).
std::optional<std::string> worktree_rel(const std::string &stored_rel);
// Whether a path's first component is one stored_rel renames (worktree side).
bool renamed_in_snapshots(const std::string &worktree_rel);
// The same renames applied in place to the top level of a tree: a worktree cloned whole (JuiceFS)
// into a snapshot's staging directory (a leftover Go marker there is removed), and back in a
// snapshot cloned into a worktree's (the snapshot's marker is removed).
void rename_ready_for_snapshot(const Dir &tree);
void rename_ready_for_worktree(const Dir &tree);

// Component-wise path order: the order scan_tree returns (parents before children).
bool path_less(const std::string &a, const std::string &b);

}  // namespace jvs
