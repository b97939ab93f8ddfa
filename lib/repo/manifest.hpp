// Snapshot manifests (.jvs/manifests/<id>): what a published snapshot holds, entry by entry, with
// content hashes. They let jvs compute payload_root_hash, link unchanged files and plan restores
// without re-reading snapshot files. Written before the snapshot is published; immutable after.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/payload_hash.hpp"
#include "util/sha256.hpp"

namespace jvs {

class Repo;
class OpContext;
class Dir;

struct ManifestEntry {
    // Ordered for size (88 bytes: a million-entry manifest is held whole); the constructor takes
    // the fields in the order the format writes them.
    std::string rel;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint32_t perm = 0;      // st_mode & 07777 (payload hash uses & 0777)
    char type = 'f';        // 'd' | 'f' | 'l'
    HexDigest hash;         // file content | symlink target | directory basename (sha256 hex)

    ManifestEntry() = default;
    ManifestEntry(char t, std::string r, uint32_t p, uint64_t sz, int64_t mt, HexDigest h)
        : rel(std::move(r)), size(sz), mtime_ns(mt), perm(p), type(t), hash(h) {}

    PayloadEntry payload() const;
};
static_assert(sizeof(ManifestEntry) <= 88, "a manifest entry should stay compact");

using Manifest = std::vector<ManifestEntry>;  // pre-order, names sorted bytewise

void write_manifest(const std::string &path, const Manifest &m);
// nullopt when missing, torn or malformed; throws E_PATH_UNSAFE when an entry's path would lead
// outside the snapshot (absolute, '..', empty or '.' components, too long, or under a non-directory).
std::optional<Manifest> read_manifest(const std::string &path);
// payload_root_hash of the tree a manifest describes (no file is read).
std::string manifest_root_hash(const Manifest &m);
// The stored manifest of snapshot `id` if it describes the tree its descriptor vouches for
// (manifest_root_hash == payload_root_hash); nullopt when missing, unreadable or disagreeing;
// E_PATH_UNSAFE as read_manifest.
std::optional<Manifest> read_trusted_manifest(const Repo &repo, const std::string &id);
// The manifest of a published snapshot; built by reading the snapshot directory when the stored one
// is missing (e.g. written by the Go tool) or not trusted. Never writes.
Manifest load_or_build_manifest(const Repo &repo, const std::string &id);
// Reads a directory tree into a manifest, hashing every file in parallel with large sequential reads.
// Skips the top-level .READY file. FIFOs, sockets and devices fail with E_SPECIAL_FILE (never opened).
Manifest build_manifest_from_dir(const std::string &root, OpContext *ctx = nullptr);
Manifest build_manifest_from_dir(const Dir &root, OpContext *ctx = nullptr);
// The Go tool's payload_root_hash of a real directory (a root that is not a directory is an empty tree,
// as filepath.Walk sees it).
std::string payload_root_hash_of_dir(const std::string &root, OpContext *ctx = nullptr);

// Keys are views of the entries' paths: valid while `m` lives unchanged.
std::unordered_map<std::string_view, const ManifestEntry *> index_manifest(const Manifest &m);

// A manifest (which names what a snapshot directory holds) under worktree names: a user's
// top-level `.READY` comes back from its stored name (engine/scan.hpp stored_rel), in path order
// (path_less, the order scan_tree returns), whatever order the stored manifest listed it in.
Manifest worktree_view(const Manifest &m);
Manifest worktree_view(Manifest &&m);  // the same, in place

}  // namespace jvs
