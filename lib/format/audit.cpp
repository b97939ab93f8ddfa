// model.AuditRecord lines and the hash-chained, flock-serialised append of internal/audit/appender.go,
// except that the previous hash is found by reading the file backwards (Go re-scans the whole log and
// gives up on lines over 64 KiB).
#include "format/audit.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "format/gojson.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

constexpr size_t kTailChunk = 64 * 1024;

gojson::ordered record_to_json(const AuditRecord &r) {
    gojson::ordered j = gojson::ordered::object();
    j["timestamp"] = format_rfc3339nano(r.timestamp);
    j["event_type"] = r.event_type;
    if (!r.snapshot_id.empty()) j["snapshot_id"] = r.snapshot_id;
    if (!r.worktree_name.empty()) j["worktree_name"] = r.worktree_name;
    if (!r.details.is_null() && !r.details.is_object()) fail("E_INTERNAL", "audit details must be a JSON object");
    // nlohmann::json objects iterate in byte order of their keys: the order Go writes a map in.
    if (!r.details.empty()) j["details"] = gojson::ordered(r.details);
    j["prev_hash"] = r.prev_hash;
    j["record_hash"] = r.record_hash;
    return j;
}

// map[string]any field: null makes it nil; an object is merged into the existing map (a repeated
// "details" key merges, as in Go), each value decoded as Go decodes into `any`.
void decode_details(const gojson::ordered &v, nlohmann::json &out) {
    if (v.is_null()) {
        out = nlohmann::json::object();
        return;
    }
    if (!v.is_object()) throw gojson::DecodeError("cannot unmarshal " + std::string(v.type_name()) + " into map[string]any");
    if (!out.is_object()) out = nlohmann::json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = nlohmann::json(gojson::decode_any(it.value()));
}

void read_exact(int fd, char *buf, size_t len, off_t at, const std::string &path) {
    while (len > 0) {
        ssize_t n = ::pread(fd, buf, len, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno(errno, "pread", path);
        if (n == 0) fail("E_IO", "audit log " + path + " shrank while locked", "retry the operation");
        buf += n, len -= static_cast<size_t>(n), at += n;
    }
}

// Offset of the last '\n' in [0, end), or -1; reads backwards a chunk at a time.
off_t newline_before(int fd, off_t end, const std::string &path) {
    std::string chunk(kTailChunk, '\0');
    while (end > 0) {
        const off_t start = end > static_cast<off_t>(kTailChunk) ? end - static_cast<off_t>(kTailChunk) : 0;
        const size_t len = static_cast<size_t>(end - start);
        read_exact(fd, chunk.data(), len, start, path);
        if (const void *p = ::memrchr(chunk.data(), '\n', len)) return start + (static_cast<const char *>(p) - chunk.data());
        end = start;
    }
    return -1;
}

struct Tail {
    std::string last_hash;  // record_hash of the last line that decodes ("" if none)
    bool torn = false;      // the file does not end in '\n': its last line is an interrupted write
};

// Walks lines from the end: cost is the size of the trailing undecodable lines plus the last good one,
// whatever the length of the log.
Tail read_tail(int fd, const std::string &path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail_errno(errno, "fstat", path);
    Tail tail;
    if (st.st_size == 0) return tail;
    char last = 0;
    read_exact(fd, &last, 1, st.st_size - 1, path);
    tail.torn = last != '\n';
    // `line_end` is the '\n' closing the candidate line; a torn final fragment is skipped, never decoded.
    off_t line_end = tail.torn ? newline_before(fd, st.st_size, path) : st.st_size - 1;
    while (line_end >= 0) {
        const off_t nl = newline_before(fd, line_end, path);
        std::string line(static_cast<size_t>(line_end - nl - 1), '\0');
        read_exact(fd, line.data(), line.size(), nl + 1, path);
        if (auto rec = parse_audit_line(line)) {
            tail.last_hash = rec->record_hash;
            return tail;
        }
        line_end = nl;
    }
    return tail;
}

UniqueFd open_audit(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    if (!fd && errno == ENOENT) {  // Go MkdirAll's the audit directory on every append
        mkdirs(parent_path(path), 0755);
        fd = UniqueFd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    }
    if (!fd) fail_errno(errno, "open", path);
    return fd;
}

void lock_exclusive(int fd, const std::string &path) {
    while (::flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) fail_errno(errno, "flock", path);
}

void append_bytes(int fd, std::string_view data, const std::string &path) {
    if (::lseek(fd, 0, SEEK_END) < 0) fail_errno(errno, "lseek", path);
    while (!data.empty()) {  // one write() in practice; the loop only covers a short write
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno(errno, "write", path);
        data.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

std::string audit_record_hash(const AuditRecord &r) {
    AuditRecord copy = r;
    copy.record_hash.clear();  // zeroed, not removed: `"record_hash":""` is part of the hashed bytes
    return sha256_hex(gojson::canonical(record_to_json(copy)));
}

std::string serialize_audit_line(const AuditRecord &r) { return gojson::compact(record_to_json(r)) + "\n"; }

std::optional<AuditRecord> parse_audit_line(std::string_view line) {
    AuditRecord r;
    r.timestamp = go_zero_time();
    const std::vector<gojson::Field> fields = {
        {"timestamp", [&](auto &v) { gojson::decode_time(v, r.timestamp); }},
        {"event_type", [&](auto &v) { gojson::decode_string(v, r.event_type); }},
        {"snapshot_id", [&](auto &v) { gojson::decode_string(v, r.snapshot_id); }},
        {"worktree_name", [&](auto &v) { gojson::decode_string(v, r.worktree_name); }},
        {"details", [&](auto &v) { decode_details(v, r.details); }},
        {"prev_hash", [&](auto &v) { gojson::decode_string(v, r.prev_hash); }},
        {"record_hash", [&](auto &v) { gojson::decode_string(v, r.record_hash); }},
    };
    if (gojson::decode_document(line, fields)) return std::nullopt;
    return r;
}

std::string serialize_audit_anchor(const AuditAnchor &a) {
    gojson::ordered j = {{"offset", a.offset}, {"record_hash", a.record_hash}};
    return gojson::compact(j) + "\n";
}

std::optional<AuditAnchor> parse_audit_anchor(std::string_view bytes) {
    auto j = gojson::parse(bytes);
    if (!j || !j->is_object() || j->size() != 2) return std::nullopt;
    auto off = j->find("offset");
    auto hash = j->find("record_hash");
    if (off == j->end() || hash == j->end() || !off->is_number_integer() || !hash->is_string()) return std::nullopt;
    if (off->is_number_unsigned() ? off->get<uint64_t>() == 0 : off->get<int64_t>() <= 0) return std::nullopt;
    AuditAnchor a{off->get<uint64_t>(), hash->get<std::string>()};
    if (a.record_hash.size() != 64) return std::nullopt;
    return a;
}

AuditRecord append_audit(const std::string &audit_path, AuditRecord rec, const std::string &anchor_path,
                         std::string *anchor_error) {
    UniqueFd fd = open_audit(audit_path);
    lock_exclusive(fd.get(), audit_path);  // released when fd closes, also on an exception
    const Tail tail = read_tail(fd.get(), audit_path);
    rec.prev_hash = tail.last_hash;
    if (rec.timestamp.sec == 0 && rec.timestamp.nsec == 0) rec.timestamp = now_utc();
    rec.record_hash = audit_record_hash(rec);
    // After a torn write the new record must not be glued onto the fragment.
    std::string bytes = tail.torn ? "\n" : "";
    bytes += serialize_audit_line(rec);
    append_bytes(fd.get(), bytes, audit_path);
    if (::fsync(fd.get()) != 0) fail_errno(errno, "fsync", audit_path);
    if (!anchor_path.empty()) {
        // Under the same flock, so anchors move in the order records are appended.
        try {
            struct stat st {};
            if (::fstat(fd.get(), &st) != 0) fail_errno(errno, "fstat", audit_path);
            atomic_write(anchor_path, serialize_audit_anchor({static_cast<uint64_t>(st.st_size), rec.record_hash}), 0644);
        } catch (const Error &e) {
            if (anchor_error) *anchor_error = e.message;
        }
    }
    ::flock(fd.get(), LOCK_UN);
    return rec;
}

}  // namespace jvs
