// The audit log (.jvs/audit/audit.jsonl): one compact JSON record per line, hash-chained.
#pragma once
#include <nlohmann/json.hpp>
#include <cstdint>
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

// The audit log's anchor, kept outside the log (a jvs-only file the Go tool never reads): the hash of
// the last record jvs appended and the byte offset where that record's line ends. Deleting,
// emptying or truncating the log, or deleting its last records, leaves the anchor pointing past the
// end or at another record. Records appended after it by a tool that does not know the anchor (the
// Go tool) only lengthen the log: an anchor behind the end is not damage.
struct AuditAnchor {
    uint64_t offset = 0;      // end of the anchored record's line ('\n' included)
    std::string record_hash;  // that record's record_hash
};
std::string serialize_audit_anchor(const AuditAnchor &a);  // compact JSON {"offset":N,"record_hash":"..."}
std::optional<AuditAnchor> parse_audit_anchor(std::string_view bytes);  // nullopt when malformed

// Appends under flock(LOCK_EX) on the audit file: finds prev_hash from the last line that parses by
// reading the file backwards from its end (cost independent of the log's length, any record size),
// fills prev_hash/record_hash/timestamp (if unset), writes one line, fsyncs. Creates the file (0644).
// With `anchor_path`, then rewrites the anchor (atomically, still under the flock); a failure there
// does not undo the appended record: it is reported in *anchor_error (an anchor behind the log is
// what the Go tool leaves too, so verify accepts it).
AuditRecord append_audit(const std::string &audit_path, AuditRecord rec, const std::string &anchor_path = {},
                         std::string *anchor_error = nullptr);

}  // namespace jvs
