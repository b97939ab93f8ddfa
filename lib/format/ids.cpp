// Snapshot ids and repository ids, formatted exactly as the Go tool does (model.NewSnapshotID,
// google/uuid NewString).
#include "format/ids.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "format/gotime.hpp"
#include "util/error.hpp"
#include "util/names.hpp"

namespace jvs {

namespace {

// Kernel CSPRNG (what Go's crypto/rand reads); blocks only until the pool is first initialised.
void random_bytes(unsigned char *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = ::getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "getrandom", "");
        }
        got += static_cast<size_t>(n);
    }
}

}  // namespace

std::string new_snapshot_id() {
    const Timestamp now = now_utc();
    const int64_t millis = now.sec * 1000 + now.nsec / 1000000;
    unsigned char r[4];
    random_bytes(r, sizeof r);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%013lld-%02x%02x%02x%02x", static_cast<long long>(millis), r[0], r[1], r[2], r[3]);
    return buf;
}

bool is_snapshot_id(std::string_view s) {
    if (s.size() != 22 || s[13] != '-') return false;
    for (size_t i = 0; i < s.size(); i++) {
        const char c = s[i];
        if (i < 13 && !(c >= '0' && c <= '9')) return false;
        if (i > 13 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

void check_stored_snapshot_id(std::string_view id, std::string_view field, bool may_be_empty) {
    if (id.empty() && may_be_empty) return;
    if (!is_snapshot_id(id)) fail_unsafe(id, field, "is not a snapshot id");
}

bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

std::string new_uuid_v4() {
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    char buf[40];
    std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return buf;
}

}  // namespace jvs
