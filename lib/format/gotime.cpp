// RFC 3339 as Go's time package writes (AppendFormat RFC3339Nano) and reads (Time.UnmarshalJSON, which
// since Go 1.20 is parseStrictRFC3339) it. Checksums re-serialise parsed times, so both directions
// must agree with Go exactly.
#include "format/gotime.hpp"

#include <time.h>

#include <cstdio>

namespace jvs {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = floor_div(y, 400);
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    int64_t year;
    int month, day;
};

Civil civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = floor_div(z, 146097);
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (month <= 2), month, day};
}

bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int days_in(int month, int64_t year) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Go's parseUint inside parseRFC3339: all digits and within [min, max], else the parse fails.
bool parse_uint(std::string_view s, int min, int max, int &out) {
    out = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    return out >= min && out <= max;
}

bool is_digit(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// Go's appendInt(b, x, width): sign, then the absolute value zero-padded to `width` digits.
void append_padded(std::string &out, int64_t v, int width) {
    char buf[32];
    const bool neg = v < 0;
    std::snprintf(buf, sizeof buf, "%s%0*lld", neg ? "-" : "", width, static_cast<long long>(neg ? -v : v));
    out += buf;
}

// Go's parseUint-style check for a fixed-width field: all digits and within [min, max].
bool fixed_field(std::string_view s, size_t at, size_t width, int min, int max, int &out) {
    return at + width <= s.size() && parse_uint(s.substr(at, width), min, max, out);
}

// The fraction and zone suffix, as time.Parse(RFC3339) reads them after the seconds: '.' or ',' then
// any number of digits (at most 9 are used, the rest dropped), then "Z" or "+hh:mm" where Go's range
// test lets hh reach 24 and mm reach 60. An offset of 24h or more is refused here: Go reads it but
// cannot marshal it back ("timezone hour outside of range"), so no checksum could cover it.
bool parse_fraction_and_zone(std::string_view s, int32_t &nsec, int32_t &offset_min) {
    nsec = 0;
    if (s.size() >= 2 && (s[0] == '.' || s[0] == ',') && is_digit(s, 1)) {
        size_t n = 1;
        while (is_digit(s, n)) n++;
        for (size_t k = 1; k <= 9; k++) nsec = nsec * 10 + (k < n ? s[k] - '0' : 0);
        s.remove_prefix(n);
    }
    offset_min = 0;
    if (s == "Z") return true;
    int hh = 0, mm = 0;
    if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return false;
    if (!fixed_field(s, 1, 2, 0, 24, hh) || !fixed_field(s, 4, 2, 0, 60, mm)) return false;
    if (hh * 60 + mm >= 24 * 60) return false;
    offset_min = (s[0] == '-' ? -1 : 1) * (hh * 60 + mm);
    return true;
}

}  // namespace

Timestamp now_utc() {
    struct timespec ts {};
    clock_gettime(CLOCK_REALTIME, &ts);
    return {static_cast<int64_t>(ts.tv_sec), static_cast<int32_t>(ts.tv_nsec), 0};
}

Timestamp go_zero_time() { return {days_from_civil(1, 1, 1) * kSecondsPerDay, 0, 0}; }

std::string format_rfc3339nano(const Timestamp &t) {
    // Go writes the wall clock of the time's own zone, followed by that zone's offset.
    const int64_t local = t.sec + int64_t{t.offset_min} * 60;
    const int64_t days = floor_div(local, kSecondsPerDay);
    const int64_t secs = local - days * kSecondsPerDay;
    const Civil c = civil_from_days(days);
    std::string out;
    append_padded(out, c.year, 4);
    char buf[64];
    std::snprintf(buf, sizeof buf, "-%02d-%02dT%02d:%02d:%02d", c.month, c.day, static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
    out += buf;
    if (t.nsec != 0) {
        std::snprintf(buf, sizeof buf, ".%09d", t.nsec);
        std::string frac(buf);
        while (frac.back() == '0') frac.pop_back();
        out += frac;
    }
    if (t.offset_min == 0) return out + "Z";
    const int off = t.offset_min < 0 ? -t.offset_min : t.offset_min;
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", t.offset_min < 0 ? '-' : '+', off / 60, off % 60);
    return out + buf;
}

// Go's Time.UnmarshalJSON tries a strict RFC 3339 reader and falls back to time.Parse(RFC3339, s)
// (the stricter re-checks are disabled in Go, issue 54580), so the accepted set is Parse's: a 4-digit
// year, 2-digit month/day/minute/second, a 1- or 2-digit hour, and the suffix above.
std::optional<Timestamp> parse_rfc3339(std::string_view s) {
    int year = 0, month = 0, day = 0, hour = 0, min = 0, sec = 0;
    if (!fixed_field(s, 0, 4, 0, 9999, year) || !fixed_field(s, 5, 2, 1, 12, month) ||
        !fixed_field(s, 8, 2, 1, days_in(month, year), day))
        return std::nullopt;
    if (s.size() < 11 || s[4] != '-' || s[7] != '-' || s[10] != 'T') return std::nullopt;
    const size_t hour_len = is_digit(s, 12) ? 2 : 1;
    const size_t m = 11 + hour_len;  // offset of the ':' before the minutes
    if (!fixed_field(s, 11, hour_len, 0, 23, hour) || !fixed_field(s, m + 1, 2, 0, 59, min) ||
        !fixed_field(s, m + 4, 2, 0, 59, sec) || s[m] != ':' || s[m + 3] != ':')
        return std::nullopt;
    Timestamp t;
    if (!parse_fraction_and_zone(s.substr(m + 6), t.nsec, t.offset_min)) return std::nullopt;
    const int64_t local = days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600 + min * 60 + sec;
    t.sec = local - int64_t{t.offset_min} * 60;
    return t;
}

}  // namespace jvs
