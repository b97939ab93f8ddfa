// Timestamps exactly as Go's time.Time marshals them (RFC3339Nano), so re-serialising a parsed
// time reproduces the bytes Go hashed into descriptor checksums and audit records.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jvs {

struct Timestamp {
    int64_t sec = 0;         // seconds since the Unix epoch (UTC)
    int32_t nsec = 0;        // 0..999999999
    int32_t offset_min = 0;  // the zone offset it was written with; 0 is written as "Z"
    bool operator==(const Timestamp &o) const { return sec == o.sec && nsec == o.nsec; }
    bool operator<(const Timestamp &o) const { return sec != o.sec ? sec < o.sec : nsec < o.nsec; }
    int64_t unix_ns() const { return sec * 1000000000LL + nsec; }
};

Timestamp now_utc();
// Go's zero time.Time, "0001-01-01T00:00:00Z": what a missing or null time field decodes to.
Timestamp go_zero_time();
// "2026-11-25T04:50:20.525989835Z": fraction trimmed of trailing zeros, omitted when 0;
// non-zero offsets as "+hh:mm" / "-hh:mm" with the local wall time, as Go does.
std::string format_rfc3339nano(const Timestamp &t);
// Accepts what Go's Time.UnmarshalJSON accepts (time.Parse(RFC3339) rules): RFC 3339 with an optional
// '.' or ',' fraction of any length (digits beyond 9 truncated), "Z" or "±hh:mm", also a 1-digit hour
// and offsets written like "+05:60". nullopt if malformed, and for offsets of 24h or more, which Go
// reads but cannot marshal back.
std::optional<Timestamp> parse_rfc3339(std::string_view s);

}  // namespace jvs
