// The audit log (.jvs/audit/audit.jsonl): one compact JSON record per line, hash-chained.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "format/gotime.hpp"

namespace jvs {

struct AuditRecord {
    Timestamp timestamp;
    std::string event_type;
    std::string snapshot_id;    // "" omitted
    std::string worktree_name;  // "" omitted
    nlohmann::json details = nlohmann::json::object();  // empty omitted; keys sorted (Go map)
    std::string prev_hash;
    std::string record_hash;
};

// sha256 of CanonicalMarshal(record with record_hash = "") -- the empty key is hashed.
std::string audit_record_hash(const AuditRecord &r);
// Compact Go struct-order bytes plus "\n".
std::string serialize_audit_line(const AuditRecord &r);
std::optional<AuditRecord> parse_audit_line(std::string_view line);

// Appends under flock(LOCK_EX) on the audit file: finds prev_hash from the last line that parses by
// reading the file backwards from its end (cost independent of the log's length, any record size),
// fills prev_hash/record_hash/timestamp (if unset), writes one line, fsyncs. Creates the file (0644).
AuditRecord append_audit(const std::string &audit_path, AuditRecord rec);

}  // namespace jvs
