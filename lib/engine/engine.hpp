// Materialising files: the copy engine's primitives. Every operation that writes a tree (snapshot,
// restore, fork, worktree create --from) goes through these, so CoW engines (reflink, juicefs)
// plug in here behind the same calls.
#pragma once
#include <sys/stat.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/beneath.hpp"

namespace jvs {

// Something the engine could not keep, reported in results (never silently dropped).
struct Degradation {
    std::string kind;    // hardlink_split | xattr_dropped | reflink_fallback | clone_fallback | changed_while_read |
                         // sparse_filled
    std::string path;
    std::string detail;
    nlohmann::ordered_json to_json() const { return {{"kind", kind}, {"path", path}, {"detail", detail}}; }
};

// A sparse file whose copy could not keep its holes (the filesystem stores no holes, or does not
// report them): the content is right, the disk use is the full size.
inline nlohmann::ordered_json sparse_filled(const std::string &path) {
    return Degradation{"sparse_filled", path, "the copy could not keep the file's holes: it uses its full size on disk"}
        .to_json();
}

inline constexpr const char *kCopyEngine = "copy";

enum class CopyMethod {
    Kernel,   // copy_file_range: the kernel's copy path, for filesystems that cannot clone
    Bytes,    // read + write: a real copy even where copy_file_range would share extents (XFS, btrfs)
    Reflink,  // FICLONE: share the extents; falls back to a copy when the filesystem refuses
};

struct CopyOutcome {
    uint64_t bytes = 0;
    bool cloned = false;     // extents shared with the source
    bool fell_back = false;  // Reflink was asked for and refused: data was copied
    int reads = 0;           // how many times the source's data was taken (retries after a change)
    bool changed = false;    // the source changed during every one of them: stored as last read
    struct stat stored {};   // the source's stat the stored data and metadata belong to
    struct stat src_after {};  // fstat of the source once its data was taken
    struct stat dst_after {};  // fstat of dst with its final metadata (for the stat cache)
    std::vector<std::string> dropped_xattrs;  // extended attributes that could not be kept
    bool holes_filled = false;  // the source is sparse, the copy is not (reported as sparse_filled)
    int64_t started_ns = 0;  // stamp_clock_ns() before the source was last read or cloned
};

// How often a source that changes while it is read is read again before it is stored as read
// (and reported as changed_while_read).
inline constexpr int kReadAttempts = 3;

// Creates `dst` (must not exist, reached beneath its tree) with the content and extended
// attributes of `src_rel` (opened beneath `src_root`, never through a symlink), then gives it the
// source's exact mode, owner (as root) and atime/mtime. The data is taken whole: the source's
// fstat before and after must agree (size, mtime, ctime, inode, mode), else it is taken again, up
// to `attempts` times; a FICLONE is atomic per file on XFS and btrfs, so a clone bracketed by two
// equal stats holds exactly that version. With `hash_out`, the hash describes exactly what `dst`
// holds: a copy is read once, hashed and written from the same buffer; a clone is hashed by reading
// the source when its stat predates the clone and is unchanged afterwards (the source's page cache
// is usually warm), else by reading the clone. Without `hash_out`, Kernel uses copy_file_range and
// Bytes a plain read/write loop.
CopyOutcome copy_file(const Dir &src_root, const std::string &src_rel, const Entry &dst, std::string *hash_out,
                      CopyMethod method = CopyMethod::Kernel, int attempts = 1);

// link(2) for deduplication against an immutable snapshot copy; false when the filesystem refuses
// (EMLINK link-count limit, EXDEV, EPERM...), in which case the caller copies.
bool try_hardlink(const Entry &existing, const Entry &dst);

void create_symlink(const std::string &target, const Entry &dst, const struct stat &st);
// Directories are created owner-writable so children can be added, and get their exact mode and
// mtime from finish_dir afterwards (deepest first).
void create_dir(const Entry &dst);
// Exact mode, owner and times for the directory `rel` of `root`, and the extended attributes of
// `xattr_src` (an open directory, or -1); returns the attribute names that could not be kept.
std::vector<std::string> finish_dir(const Dir &root, const std::string &rel, const struct stat &st, int xattr_src);
// mode/owner/times of an existing file or symlink, without touching content.
void apply_metadata(const Dir &root, const std::string &rel, const struct stat &st);

}  // namespace jvs
