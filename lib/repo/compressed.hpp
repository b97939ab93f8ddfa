// Snapshots the Go tool compressed (`snapshot --compress`, UPSTREAM_FACTS 5.4): after publishing, it
// gzipped every file in place as `<name>.gz` (mode 0600, `.READY` too), leaving directories and a
// user's own `*.gz` files alone; payload_root_hash still describes the uncompressed tree. jvs reads
// such a snapshot as the tree the user had: names without the added `.gz`, content inflated, modes
// and mtimes taken from the nearest uncompressed snapshot holding the same content at the same path,
// and the result checked against payload_root_hash. jvs never writes compressed snapshots.
#pragma once
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/engine.hpp"
#include "format/descriptor.hpp"
#include "repo/manifest.hpp"

namespace jvs {

class Repo;
class OpContext;
class Dir;

// The descriptor records a compression other than none.
bool is_compressed(const Descriptor &d);

struct CompressedView {
    Manifest manifest;                // the user's tree under snapshot names (as build_manifest_from_dir gives)
    std::vector<std::string> source;  // per entry: its name in the snapshot directory
    std::vector<char> inflate;        // per entry: 1 when `source` is gzip data to inflate
    // per entry: a symlink's target when the Go tool turned the link into a file (of its target's
    // content) and a neighbour holds the link; "" otherwise
    std::vector<std::string> link_target;
    // "verified": the tree hashes to payload_root_hash (content and modes confirmed);
    // "unverified": the files inflate but the tree does not hash to it with any mode jvs could
    // infer (changed after compression, or modes beyond recovery); "damaged": a file the Go tool
    // compressed is not intact gzip data (or the marker is wrong).
    std::string verdict;
    std::string problem;                     // why not verified
    std::vector<Degradation> degradations;  // mtime_lost: what cannot be recovered
    uint64_t inflated = 0;        // files the Go tool compressed
    uint64_t modes_inferred = 0;  // of those, modes that came from the hash search, not a reference snapshot
    std::optional<std::string> ready;        // the marker's bytes, inflated
    nlohmann::ordered_json to_json(const Descriptor &d) const;  // {type, level, verdict, ...}
};

// Reads (inflating on the fly, beneath the snapshot directory) what a compressed snapshot holds.
// Nothing is written.
CompressedView read_compressed_snapshot(const Repo &repo, const Descriptor &d, OpContext *ctx);

// A small gzip file's content (at most `max` bytes inflated), e.g. the marker `.READY.gz`; nullopt
// when absent, or when it is not intact gzip data (then `why` says what is wrong).
std::optional<std::string> inflate_small_file(const Dir &dir, const std::string &rel, size_t max, std::string *why);

// Writes the view's tree, inflated, with its modes and mtimes, into `into` (an empty directory):
// every directory, and the files and symlinks `only` names (snapshot-side paths; nullptr: all).
void expand_compressed_snapshot(const Dir &snapshot, const CompressedView &v, const Dir &into, OpContext *ctx,
                                const std::unordered_set<std::string> *only = nullptr);

}  // namespace jvs
