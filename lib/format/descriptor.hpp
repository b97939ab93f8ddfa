// Snapshot descriptors (.jvs/descriptors/<id>.json), their checksum, and the .READY marker.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/gojson.hpp"
#include "format/gotime.hpp"

namespace jvs {

struct Descriptor {
    std::string snapshot_id;
    std::string parent_id;  // "" = no parent (omitted on write)
    std::string worktree_name;
    Timestamp created_at;
    std::string note;               // "" omitted
    std::vector<std::string> tags;  // empty omitted
    std::string engine;             // "copy" | "reflink-copy" | "juicefs-clone"
    std::string payload_root_hash;
    std::string descriptor_checksum;
    std::string integrity_state;              // "verified" at creation
    std::vector<std::string> partial_paths;   // empty omitted
    std::optional<gojson::ordered> compression;  // {"type":..,"level":..} as Go's CompressionInfo decodes it
    // Go's parent_id is a *string: a hand-edited `"parent_id": ""` is kept (and checksummed) by Go.
    // True only when such a file was parsed; parent_id non-empty is written regardless.
    bool empty_parent_id = false;
};

// Go struct order with omitempty rules: the object written to disk and embedded in documents.
gojson::ordered descriptor_to_json(const Descriptor &d);
// The file bytes: MarshalIndent, no trailing newline.
std::string serialize_descriptor(const Descriptor &d);
// Go json.Unmarshal semantics: case-insensitive keys, unknown keys ignored, null = zero value.
// Throws Error E_DESCRIPTOR_CORRUPT on malformed input (bad JSON, wrong types, bad created_at).
Descriptor parse_descriptor(std::string_view bytes);
// The fields an operation joins to directories must name something inside them: snapshot_id and
// parent_id are snapshot ids, worktree_name a stored worktree name, every partial path a safe
// relative path (util/names). Throws E_PATH_UNSAFE. parse_descriptor stays the Go tool's decoder;
// load_descriptor (lib/repo) applies this to everything read from the repository.
void check_descriptor_paths(const Descriptor &d);
// sha256 of CanonicalMarshal(descriptor with descriptor_checksum="" and integrity_state="").
std::string descriptor_checksum(const Descriptor &d);
// .READY bytes: compact {snapshot_id, completed_at, payload_root_hash, engine, descriptor_checksum}.
std::string ready_marker(const Descriptor &d, const Timestamp &completed_at);
// Intent bytes: compact {snapshot_id, worktree_name, started_at, engine}.
std::string intent_bytes(std::string_view snapshot_id, std::string_view worktree, const Timestamp &started_at,
                         std::string_view engine);

}  // namespace jvs
