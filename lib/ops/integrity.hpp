// Integrity checks shared by verify, doctor and gc: the audit hash chain, the .READY marker, gc's
// tombstone paths.
// Header-only (inline) so it needs no build change.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "format/audit.hpp"
#include "format/descriptor.hpp"
#include "format/gotime.hpp"
#include "repo/repo.hpp"
#include "util/beneath.hpp"
#include "util/fs.hpp"

namespace jvs {

// gc's tombstones (.jvs/gc/tombstones/<id>.json, the Go tool's place): a snapshot with one is being
// or has been deleted by gc, so its leftovers are gc's business, never corruption.
inline std::string gc_dir(const Repo &repo) { return path_join(repo.jvs_dir(), "gc"); }
inline std::string gc_tombstones_dir(const Repo &repo) { return path_join(gc_dir(repo), "tombstones"); }
inline std::string gc_tombstone_path(const Repo &repo, const std::string &id) {
    return path_join(gc_tombstones_dir(repo), id + ".json");
}

struct AuditChainResult {
    bool ok = true;
    uint64_t records = 0;  // records that parsed and linked before the first break (all when ok)
    uint64_t line = 0;     // 1-based line of the first break
    std::string code;      // "E_AUDIT_CHAIN_BROKEN" when broken
    std::string error;
};

// A record only jvs writes (an event the Go tool does not have, or a snapshot_create carrying the
// created_at jvs adds): jvs anchored the log when it appended it.
inline bool is_jvs_record(const AuditRecord &rec) {
    static const char *const ours[] = {"gc_plan", "gc_pin", "gc_unpin", "repair", "config_set", "config_unset",
                                       "worktree_create", "worktree_rename"};
    for (const char *e : ours)
        if (rec.event_type == e) return true;
    return rec.event_type == "snapshot_create" && rec.details.contains("created_at");
}

// Recomputes every record's record_hash and checks each prev_hash against the previous record's hash
// ("" for the first). A line that does not parse (including an unterminated final line) is a break.
// With an anchor (format/audit.hpp) the record it names must end exactly where it says: a log that
// is missing, shorter than the anchor or holding another record there was truncated or rewritten.
// Without one (the Go tool's repositories) a missing log is an empty, intact chain, but a log holding
// records only jvs writes has lost its anchor.
inline AuditChainResult check_audit_chain(const std::string &path, const std::string &anchor_path) {
    AuditChainResult r;
    uint64_t lineno = 0;
    auto broken = [&](const std::string &msg) {
        r.ok = false;
        r.line = lineno;
        r.code = "E_AUDIT_CHAIN_BROKEN";
        r.error = "line " + std::to_string(lineno) + ": " + msg;
        return r;
    };
    std::optional<AuditAnchor> anchor;
    if (auto raw_anchor = read_file_if_exists(anchor_path)) {
        anchor = parse_audit_anchor(*raw_anchor);
        lineno = 1;
        if (!anchor) return broken("the audit anchor " + anchor_path + " is unreadable (edited?)");
        lineno = 0;
    }
    auto raw = read_file_if_exists(path);
    if (!raw) {
        lineno = 1;
        if (anchor) return broken("the audit log is missing, but jvs anchored a record ending at byte " +
                                  std::to_string(anchor->offset) + " (deleted?)");
        return r;
    }
    const std::string &s = *raw;
    std::string prev;
    size_t pos = 0;
    bool anchored = !anchor;
    bool wrote_jvs_records = false;  // then the anchor must exist (jvs writes it with every record)
    while (pos < s.size()) {
        size_t nl = s.find('\n', pos);
        lineno++;
        if (nl == std::string::npos) return broken("unterminated record (interrupted write)");
        std::string_view line(s.data() + pos, nl - pos);
        pos = nl + 1;
        auto rec = parse_audit_line(line);
        if (!rec) return broken("malformed record");
        // Both tools write each record in one exact encoding; other bytes (a renamed key, an
        // escaped character) may still hash the same fields, so they are a break too.
        if (serialize_audit_line(*rec) != std::string(line) + "\n")
            return broken("record bytes are not the encoding of its fields");
        if (audit_record_hash(*rec) != rec->record_hash) return broken("record_hash does not match the record's content");
        if (rec->prev_hash != prev) return broken("prev_hash does not link to the previous record");
        if (!anchored && pos >= anchor->offset) {
            if (pos != anchor->offset || rec->record_hash != anchor->record_hash)
                return broken("the log diverges from the anchored record (rewritten?)");
            anchored = true;
        }
        prev = rec->record_hash;
        r.records++;
        wrote_jvs_records = wrote_jvs_records || is_jvs_record(*rec);
    }
    if (!anchored) {
        lineno++;
        return broken("the log ends at byte " + std::to_string(s.size()) + ", before the record jvs anchored at byte " +
                      std::to_string(anchor->offset) + " (truncated, or records deleted)");
    }
    if (!anchor && wrote_jvs_records) {
        lineno = 1;
        return broken("the audit anchor " + anchor_path + " is missing, although jvs appended records (deleted?)");
    }
    return r;
}

inline nlohmann::ordered_json audit_chain_json(const AuditChainResult &a) {
    nlohmann::ordered_json j = {{"ok", a.ok}, {"records", a.records}};
    if (!a.ok) {
        j["code"] = a.code;
        j["line"] = a.line;
        j["error"] = a.error;
    }
    return j;
}

// The .READY marker of a snapshot must exist, parse and agree with the descriptor, byte for byte
// (its bytes are a function of the descriptor and its completed_at). Returns the problem, if any.
// `raw`: the marker's bytes (nullopt when missing); `name` names it in messages.
inline std::optional<std::string> check_ready_bytes(const std::optional<std::string> &raw, const Descriptor &d,
                                                    const std::string &name = ".READY") {
    if (!raw) return name + " is missing (or not a regular file)";
    auto j = nlohmann::json::parse(*raw, nullptr, false);
    if (!j.is_object()) return std::string(".READY is not a JSON object");
    for (const char *k : {"snapshot_id", "completed_at", "payload_root_hash", "engine", "descriptor_checksum"})
        if (!j.contains(k) || !j[k].is_string()) return ".READY has no string field " + std::string(k);
    if (j["snapshot_id"] != d.snapshot_id) return std::string(".READY snapshot_id differs from the descriptor");
    if (j["payload_root_hash"] != d.payload_root_hash)
        return std::string(".READY payload_root_hash differs from the descriptor");
    if (j["descriptor_checksum"] != d.descriptor_checksum)
        return std::string(".READY descriptor_checksum differs from the descriptor");
    if (j["engine"] != d.engine) return std::string(".READY engine differs from the descriptor");
    auto ts = parse_rfc3339(j["completed_at"].get<std::string>());
    if (!ts) return std::string(".READY completed_at is not a valid time");
    if (ready_marker(d, *ts) != *raw) return std::string(".READY bytes are not the marker of this snapshot");
    return std::nullopt;
}

inline std::optional<std::string> check_ready_marker(const std::string &snapshot_dir, const Descriptor &d) {
    // Read beneath the snapshot directory: a symlink named .READY is no marker, never followed.
    std::optional<std::string> raw;
    if (auto dir = Dir::open_root_if_exists(snapshot_dir)) raw = dir->read_small_file(".READY", 1 << 16);
    return check_ready_bytes(raw, d);
}

}  // namespace jvs
