// model.Descriptor, model.ReadyMarker and model.IntentRecord as encoding/json writes and reads them.
#include "format/descriptor.hpp"

#include "format/ids.hpp"
#include "util/error.hpp"
#include "util/names.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

constexpr const char *kCorruptHint = "the descriptor file is damaged; restore it from a backup or remove the snapshot";

// *CompressionInfo{Type string `json:"type"`; Level int `json:"level"`}: null resets the pointer, an object
// is decoded into the existing value (as Go does for a repeated key).
void decode_compression(const gojson::ordered &v, std::optional<gojson::ordered> &out) {
    if (v.is_null()) {
        out.reset();
        return;
    }
    std::string type = out ? out->value("type", std::string()) : "";
    int64_t level = out ? out->value("level", int64_t{0}) : 0;
    gojson::decode_struct(v, {{"type", [&](auto &x) { gojson::decode_string(x, type); }},
                              {"level", [&](auto &x) { gojson::decode_int(x, level); }}});
    out = gojson::ordered{{"type", type}, {"level", level}};
}

}  // namespace

gojson::ordered descriptor_to_json(const Descriptor &d) {
    gojson::ordered j = gojson::ordered::object();
    j["snapshot_id"] = d.snapshot_id;
    if (!d.parent_id.empty() || d.empty_parent_id) j["parent_id"] = d.parent_id;
    j["worktree_name"] = d.worktree_name;
    j["created_at"] = format_rfc3339nano(d.created_at);
    if (!d.note.empty()) j["note"] = d.note;
    if (!d.tags.empty()) j["tags"] = d.tags;
    j["engine"] = d.engine;
    j["payload_root_hash"] = d.payload_root_hash;
    j["descriptor_checksum"] = d.descriptor_checksum;
    j["integrity_state"] = d.integrity_state;
    if (!d.partial_paths.empty()) j["partial_paths"] = d.partial_paths;
    if (d.compression) j["compression"] = *d.compression;
    return j;
}

std::string serialize_descriptor(const Descriptor &d) { return gojson::indent(descriptor_to_json(d)); }

Descriptor parse_descriptor(std::string_view bytes) {
    Descriptor d;
    d.created_at = go_zero_time();
    const std::vector<gojson::Field> fields = {
        {"snapshot_id", [&](auto &v) { gojson::decode_string(v, d.snapshot_id); }},
        {"parent_id",
         [&](auto &v) {
             if (v.is_null()) d.parent_id.clear();
             gojson::decode_string(v, d.parent_id);
             d.empty_parent_id = !v.is_null() && d.parent_id.empty();
         }},
        {"worktree_name", [&](auto &v) { gojson::decode_string(v, d.worktree_name); }},
        {"created_at", [&](auto &v) { gojson::decode_time(v, d.created_at); }},
        {"note", [&](auto &v) { gojson::decode_string(v, d.note); }},
        {"tags", [&](auto &v) { gojson::decode_string_list(v, d.tags); }},
        {"engine", [&](auto &v) { gojson::decode_string(v, d.engine); }},
        {"payload_root_hash", [&](auto &v) { gojson::decode_string(v, d.payload_root_hash); }},
        {"descriptor_checksum", [&](auto &v) { gojson::decode_string(v, d.descriptor_checksum); }},
        {"integrity_state", [&](auto &v) { gojson::decode_string(v, d.integrity_state); }},
        {"partial_paths", [&](auto &v) { gojson::decode_string_list(v, d.partial_paths); }},
        {"compression", [&](auto &v) { decode_compression(v, d.compression); }},
    };
    if (auto err = gojson::decode_document(bytes, fields)) fail("E_DESCRIPTOR_CORRUPT", "descriptor: " + *err, kCorruptHint);
    return d;
}

void check_descriptor_paths(const Descriptor &d) {
    check_stored_snapshot_id(d.snapshot_id, "descriptor snapshot_id");
    check_stored_snapshot_id(d.parent_id, "descriptor parent_id", true);
    check_stored_name(d.worktree_name, "descriptor worktree_name");
    for (const auto &p : d.partial_paths) check_stored_path(p, "descriptor partial_paths");
}

std::string descriptor_checksum(const Descriptor &d) {
    // Go zeroes the two fields rather than dropping them: `"descriptor_checksum":""` is hashed.
    Descriptor copy = d;
    copy.descriptor_checksum.clear();
    copy.integrity_state.clear();
    return sha256_hex(gojson::canonical(descriptor_to_json(copy)));
}

std::string ready_marker(const Descriptor &d, const Timestamp &completed_at) {
    gojson::ordered j = gojson::ordered::object();
    j["snapshot_id"] = d.snapshot_id;
    j["completed_at"] = format_rfc3339nano(completed_at);
    j["payload_root_hash"] = d.payload_root_hash;
    j["engine"] = d.engine;
    j["descriptor_checksum"] = d.descriptor_checksum;
    return gojson::compact(j);
}

std::string intent_bytes(std::string_view snapshot_id, std::string_view worktree, const Timestamp &started_at,
                         std::string_view engine) {
    gojson::ordered j = gojson::ordered::object();
    j["snapshot_id"] = snapshot_id;
    j["worktree_name"] = worktree;
    j["started_at"] = format_rfc3339nano(started_at);
    j["engine"] = engine;
    return gojson::compact(j);
}

}  // namespace jvs
