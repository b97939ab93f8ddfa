// gotime: RFC3339Nano exactly as Go writes and reads it; ids: snapshot and repository id formats.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "format/gotime.hpp"
#include "format/ids.hpp"

using namespace jvs;

namespace {

// parse then format: what Go writes back after reading a time.
std::string reformat(std::string_view s) {
    auto t = parse_rfc3339(s);
    REQUIRE(t);
    return format_rfc3339nano(*t);
}

}  // namespace

TEST_CASE("gotime format: fraction trimmed, omitted at zero, Z for UTC") {
    const int64_t sec = 1795582220;  // 2026-11-25T04:50:20Z
    CHECK(format_rfc3339nano({sec, 0, 0}) == "2026-11-25T04:50:20Z");
    CHECK(format_rfc3339nano({sec, 525989835, 0}) == "2026-11-25T04:50:20.525989835Z");
    CHECK(format_rfc3339nano({sec, 120000000, 0}) == "2026-11-25T04:50:20.12Z");
    CHECK(format_rfc3339nano({sec, 100, 0}) == "2026-11-25T04:50:20.0000001Z");
    CHECK(format_rfc3339nano({sec, 1, 0}) == "2026-11-25T04:50:20.000000001Z");
    CHECK(format_rfc3339nano({0, 0, 0}) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339nano({-1, 999999999, 0}) == "1969-12-31T23:59:59.999999999Z");
    CHECK(format_rfc3339nano(go_zero_time()) == "0001-01-01T00:00:00Z");
    CHECK(format_rfc3339nano({253402300799, 0, 0}) == "9999-12-31T23:59:59Z");
}

TEST_CASE("gotime format: offsets keep the local wall clock") {
    CHECK(format_rfc3339nano({1795582220, 0, 330}) == "2026-11-25T10:20:20+05:30");
    CHECK(format_rfc3339nano({1795582220, 500000000, -480}) == "2026-11-24T20:50:20.5-08:00");
    CHECK(format_rfc3339nano({0, 0, -1}) == "1969-12-31T23:59:00-00:01");
}

TEST_CASE("gotime parse: round trips of every form Go writes") {
    for (const char *s : {"2026-11-25T04:50:20.525989835Z", "2026-11-25T04:50:20Z", "2026-11-25T04:50:20.12Z",
                          "2026-11-25T10:20:20+05:30", "2026-11-24T20:50:20.5-08:00", "0001-01-01T00:00:00Z",
                          "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999+23:59", "2024-02-29T12:00:00Z",
                          "2000-02-29T00:00:00Z"}) {
        CAPTURE(s);
        CHECK(reformat(s) == s);
    }
    // Forms Go accepts but writes differently.
    CHECK(reformat("2026-11-25T04:50:20.120Z") == "2026-11-25T04:50:20.12Z");
    CHECK(reformat("2026-11-25T04:50:20.000Z") == "2026-11-25T04:50:20Z");
    CHECK(reformat("2026-11-25T04:50:20+00:00") == "2026-11-25T04:50:20Z");
    CHECK(reformat("2026-11-25T04:50:20-00:00") == "2026-11-25T04:50:20Z");
    CHECK(reformat("2026-11-25T04:50:20.1234567899Z") == "2026-11-25T04:50:20.123456789Z");  // truncated, not rounded
    CHECK(reformat("2026-11-25T04:50:20.00000000001Z") == "2026-11-25T04:50:20Z");
    // time.Parse(RFC3339) leniencies that Go's UnmarshalJSON keeps (its strict re-checks are disabled).
    CHECK(reformat("2026-11-25T4:50:20Z") == "2026-11-25T04:50:20Z");
    CHECK(reformat("2026-11-25T04:50:20,5Z") == "2026-11-25T04:50:20.5Z");
    CHECK(reformat("2026-11-25T04:50:20+05:60") == "2026-11-25T04:50:20+06:00");
    CHECK(reformat("2026-11-25T04:50:20-23:59") == "2026-11-25T04:50:20-23:59");

    auto t = parse_rfc3339("2026-11-25T10:20:20.5+05:30");
    REQUIRE(t);
    CHECK(t->sec == 1795582220);  // UTC instant
    CHECK(t->nsec == 500000000);
    CHECK(t->offset_min == 330);
    CHECK(*t == Timestamp{1795582220, 500000000, 0});  // equality is by instant
    CHECK(parse_rfc3339("0001-01-01T00:00:00Z")->sec == go_zero_time().sec);
}

TEST_CASE("gotime parse: malformed input is rejected") {
    for (const char *bad : {"", "2026-11-25", "2026-11-25T04:50:20", "2026-11-25T04:50:20z", "2026-11-25t04:50:20Z",
                            "2026-11-25 04:50:20Z", "2026-1-25T04:50:20Z", "26-11-25T04:50:20Z",
                            "2026-11-25T24:00:00Z", "2026-11-25T04:60:20Z", "2026-11-25T04:50:60Z", "2026-13-25T04:50:20Z",
                            "2026-00-25T04:50:20Z", "2026-11-31T04:50:20Z", "2026-11-00T04:50:20Z", "2023-02-29T00:00:00Z",
                            "1900-02-29T00:00:00Z", "2026-11-25T04:50:20.Z", "2026-11-25T04:50:20+0530", "2026-11-25T04:50:20+05:3", "2026-11-25T04:50:20+24:00", "2026-11-25T04:50:20+23:60", "2026-11-25T04:50:20+05:61",
                            "2026-11-25T04:5:20Z", "2026-11-25T04:50:2Z", "2026-11-25T:50:20Z", "2026-11-25T004:50:20Z",
                            "2026-11-25T04:50:20Z ", " 2026-11-25T04:50:20Z",
                            "2026-11-25T04:50:20ZZ", "2026-11-25T04:50:20.5", "+2026-11-25T04:50:20Z",
                            "2026-11-25T04:50:20+05:30:00", "2026-11-25T04:50:20 +05:30", "2026-11-25T04:50:2aZ",
                            "-001-11-25T04:50:20Z", "2026/11/25T04:50:20Z"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_rfc3339(bad).has_value());
    }
}

TEST_CASE("gotime now_utc and ordering") {
    const Timestamp a = now_utc();
    const Timestamp b = now_utc();
    CHECK(a.offset_min == 0);
    CHECK(a.nsec >= 0);
    CHECK(a.nsec < 1000000000);
    CHECK(a.sec > 1700000000);
    CHECK_FALSE(b < a);
    CHECK(Timestamp{5, 1, 0} < Timestamp{5, 2, 0});
    CHECK(Timestamp{4, 999999999, 0} < Timestamp{5, 0, 0});
    CHECK(format_rfc3339nano(a).back() == 'Z');
    CHECK(*parse_rfc3339(format_rfc3339nano(a)) == a);
}

TEST_CASE("ids: snapshot id and uuid v4 formats") {
    const int64_t before = now_utc().sec * 1000;
    std::set<std::string> seen;
    for (int i = 0; i < 200; i++) {
        const std::string id = new_snapshot_id();
        CAPTURE(id);
        REQUIRE(is_snapshot_id(id));
        CHECK(std::stoll(id.substr(0, 13)) >= before);
        seen.insert(id);
    }
    CHECK(seen.size() == 200);
    for (const char *bad : {"", "1795582220522-0d877fa", "1795582220522-0d877fa5x", "1795582220522-0D877FA5",
                            "179558222052-0d877fa5a", "1795582220522_0d877fa5", "179558222052a-0d877fa5",
                            "1795582220522-0d877fg5"}) {
        CAPTURE(bad);
        CHECK_FALSE(is_snapshot_id(bad));
    }
    CHECK(is_snapshot_id("1795582220522-0d877fa5"));
    CHECK(is_snapshot_id("0000000000000-00000000"));

    const std::string u = new_uuid_v4();
    REQUIRE(u.size() == 36);
    for (size_t i = 0; i < u.size(); i++) {
        CAPTURE(i);
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            CHECK(u[i] == '-');
        } else {
            CHECK(((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')));
        }
    }
    CHECK(u[14] == '4');                                     // version
    CHECK(std::string("89ab").find(u[19]) != std::string::npos);  // RFC 4122 variant
    CHECK(new_uuid_v4() != u);
}
