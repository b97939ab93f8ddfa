// model.WorktreeConfig as encoding/json writes (MarshalIndent, struct order, omitempty) and reads it.
#include "format/worktree_config.hpp"

#include "util/error.hpp"

namespace jvs {

gojson::ordered worktree_config_to_json(const WorktreeConfig &c) {
    gojson::ordered j = gojson::ordered::object();
    j["name"] = c.name;
    if (!c.base_snapshot_id.empty()) j["base_snapshot_id"] = c.base_snapshot_id;
    if (!c.head_snapshot_id.empty()) j["head_snapshot_id"] = c.head_snapshot_id;
    if (!c.latest_snapshot_id.empty()) j["latest_snapshot_id"] = c.latest_snapshot_id;
    j["created_at"] = format_rfc3339nano(c.created_at);
    return j;
}

std::string serialize_worktree_config(const WorktreeConfig &c) { return gojson::indent(worktree_config_to_json(c)); }

WorktreeConfig parse_worktree_config(std::string_view bytes) {
    WorktreeConfig c;
    c.created_at = go_zero_time();
    const std::vector<gojson::Field> fields = {
        {"name", [&](auto &v) { gojson::decode_string(v, c.name); }},
        {"base_snapshot_id", [&](auto &v) { gojson::decode_string(v, c.base_snapshot_id); }},
        {"head_snapshot_id", [&](auto &v) { gojson::decode_string(v, c.head_snapshot_id); }},
        {"latest_snapshot_id", [&](auto &v) { gojson::decode_string(v, c.latest_snapshot_id); }},
        {"created_at", [&](auto &v) { gojson::decode_time(v, c.created_at); }},
    };
    if (auto err = gojson::decode_document(bytes, fields))
        fail("E_CONFIG_CORRUPT", "worktree config: " + *err,
             "the worktree's config.json is damaged; fix or restore .jvs/worktrees/<name>/config.json");
    return c;
}

}  // namespace jvs
