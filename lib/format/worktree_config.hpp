// Worktree config (.jvs/worktrees/<name>/config.json) in the Go tool's exact bytes.
#pragma once
#include <string>
#include <string_view>

#include "format/gojson.hpp"
#include "format/gotime.hpp"

namespace jvs {

struct WorktreeConfig {
    std::string name;
    std::string base_snapshot_id;    // "" omitted
    std::string head_snapshot_id;    // "" omitted
    std::string latest_snapshot_id;  // "" omitted
    Timestamp created_at;

    bool detached() const { return !latest_snapshot_id.empty() && head_snapshot_id != latest_snapshot_id; }
};

gojson::ordered worktree_config_to_json(const WorktreeConfig &c);
std::string serialize_worktree_config(const WorktreeConfig &c);  // MarshalIndent, no trailing newline
// Throws Error E_CONFIG_CORRUPT on malformed input. Case-insensitive keys, unknown keys ignored.
WorktreeConfig parse_worktree_config(std::string_view bytes);

}  // namespace jvs
