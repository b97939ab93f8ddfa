// Pieces every operation shares: document headers, worktree documents, audit records.
#include <nlohmann/json.hpp>

#include "format/audit.hpp"
#include "ops/ops.hpp"
#include "util/error.hpp"
#include "util/fault.hpp"

namespace jvs {

Doc make_doc(const char *kind) { return Doc{{"schema", 1}, {"kind", kind}}; }

Doc worktree_doc(const Repo &repo, const WorktreeConfig &cfg) {
    Doc w = {{"name", cfg.name}, {"path", repo.payload_path(cfg.name)}};
    if (!cfg.base_snapshot_id.empty()) w["base_snapshot_id"] = cfg.base_snapshot_id;
    if (!cfg.head_snapshot_id.empty()) w["head_snapshot_id"] = cfg.head_snapshot_id;
    if (!cfg.latest_snapshot_id.empty()) w["latest_snapshot_id"] = cfg.latest_snapshot_id;
    w["created_at"] = format_rfc3339nano(cfg.created_at);
    w["detached"] = cfg.detached();
    return w;
}

void audit(const Repo &repo, Doc &result, const std::string &event, const std::string &snapshot_id,
           const std::string &worktree, nlohmann::json details, const char *fault) {
    AuditRecord rec;
    rec.timestamp = now_utc();
    rec.event_type = event;
    rec.snapshot_id = snapshot_id;
    rec.worktree_name = worktree;
    rec.details = std::move(details);
    try {
        if (fault) fault_point(fault);
        std::string anchor_error;
        append_audit(repo.audit_path(), std::move(rec), repo.audit_anchor_path(), &anchor_error);
        if (!anchor_error.empty())
            result["warnings"].push_back({{"code", "E_IO"}, {"message", "audit anchor not updated: " + anchor_error}});
    } catch (const Error &e) {
        // The operation itself is already durable; a failed audit append is reported, not fatal.
        result["warnings"].push_back({{"code", e.code}, {"message", "audit log not updated: " + e.message}});
    }
}

}  // namespace jvs
