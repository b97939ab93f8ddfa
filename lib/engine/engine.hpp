// Materialising files: the copy engine's primitives. Every operation that writes a tree (snapshot,
// restore, fork, worktree create --from) goes through these, so CoW engines (reflink, juicefs)
// plug in here behind the same calls.
#pragma once
#include <sys/stat.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jvs {

// Something the engine could not keep, reported in results (never silently dropped).
struct Degradation {
    std::string kind;    // hardlink_split | xattr_dropped | owner_dropped | link_fallback
    std::string path;
    std::string detail;
    nlohmann::ordered_json to_json() const { return {{"kind", kind}, {"path", path}, {"detail", detail}}; }
};

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
    struct stat src_after {};  // fstat of the source once its data was taken (did it change meanwhile?)
    struct stat dst_after {};  // fstat of dst with its final metadata (for the stat cache)
    std::vector<std::string> dropped_xattrs;  // extended attributes that could not be kept
    int64_t started_ns = 0;  // stamp_clock_ns() before the source was read or cloned
};

// Creates `dst` (must not exist) with `src`'s content and extended attributes, then applies exact
// mode, owner (as root) and atime/mtime from `meta` (the source's own stat when null). With
// `hash_out`, the hash describes exactly what `dst` holds: a copy is read once, hashed and written
// from the same buffer; a clone is hashed by reading the source when `meta` (the caller's scan of
// it) is older than the start of the clone and still its stat afterwards (so the bytes are the
// clone's, and the source's page cache is usually warm), else by reading the clone. Without
// `hash_out`, Kernel uses copy_file_range and Bytes a plain read/write loop.
CopyOutcome copy_file(const std::string &src, const std::string &dst, const struct stat *meta, std::string *hash_out,
                      CopyMethod method = CopyMethod::Kernel);

// link(2) for deduplication against an immutable snapshot copy; false when the filesystem refuses
// (EMLINK link-count limit, EXDEV, EPERM...), in which case the caller copies.
bool try_hardlink(const std::string &existing, const std::string &dst);

void create_symlink(const std::string &target, const std::string &dst, const struct stat &st);
// Directories are created owner-writable so children can be added, and get their exact mode and
// mtime from finish_dir afterwards (deepest first).
void create_dir(const std::string &dst);
void finish_dir(const std::string &dst, const struct stat &st);
// mode/owner/times of an existing file or symlink, without touching content.
void apply_metadata(const std::string &dst, const struct stat &st);

// Copies the extended attributes of a directory or regular file; returns the names that could not be kept.
std::vector<std::string> copy_xattrs(const std::string &src, const std::string &dst);

}  // namespace jvs
