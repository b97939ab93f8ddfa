// gojson: Go encoding/json bytes (escaping, numbers, Marshal/MarshalIndent/CanonicalMarshal layouts)
// and Go json.Unmarshal reading semantics. Expected strings were produced by Go 1.26's encoding/json.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "format/gojson.hpp"

using namespace jvs;
using gojson::ordered;

namespace {

std::string parse_error(std::string_view bytes) {
    std::string err;
    auto v = gojson::parse(bytes, &err);
    return v ? "" : err;
}

std::string decoded_string(std::string_view json) {
    auto v = gojson::parse(json);
    REQUIRE(v);
    REQUIRE(v->is_string());
    return v->get<std::string>();
}

}  // namespace

TEST_CASE("gojson quote: short escapes, \\u00xx, HTML, line separators") {
    CHECK(gojson::quote("") == R"("")");
    CHECK(gojson::quote("plain text / slash") == R"("plain text / slash")");
    CHECK(gojson::quote("\"\\") == R"("\"\\")");
    CHECK(gojson::quote("\b\f\n\r\t") == R"("\b\f\n\r\t")");  // Go >= 1.22 short forms for \b and \f
    CHECK(gojson::quote(std::string("\x00\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
    CHECK(gojson::quote("\x1b[31m") == R"("\u001b[31m")");  // lowercase hex
    CHECK(gojson::quote("<a href=x>&amp;</a>") == R"("\u003ca href=x\u003e\u0026amp;\u003c/a\u003e")");
    CHECK(gojson::quote("\xe2\x80\xa8|\xe2\x80\xa9") == R"("\u2028|\u2029")");
    CHECK(gojson::quote("\x7f") == "\"\x7f\"");  // DEL is raw
    CHECK(gojson::quote("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80\"");
    CHECK(gojson::quote("\xe2\x80\xa7\xe2\x80\xaa") == "\"\xe2\x80\xa7\xe2\x80\xaa\"");  // neighbours of U+2028/9
}

TEST_CASE("gojson quote: invalid UTF-8 becomes one \\ufffd per bad byte") {
    CHECK(gojson::quote("\xff") == R"("\ufffd")");
    CHECK(gojson::quote("a\xc3") == R"("a\ufffd")");                        // truncated sequence
    CHECK(gojson::quote("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");      // UTF-8-encoded surrogate
    CHECK(gojson::quote("\xe0\x80\xaf") == R"("\ufffd\ufffd\ufffd")");      // overlong
    CHECK(gojson::quote("\xc0\xaf") == R"("\ufffd\ufffd")");                // overlong 2-byte
    CHECK(gojson::quote("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
    CHECK(gojson::quote("\xe2\x82x") == R"("\ufffd\ufffdx")");              // bad third byte
    CHECK(gojson::quote("\x80\xbf") == R"("\ufffd\ufffd")");                // stray continuation bytes
    CHECK(gojson::quote("\xef\xbf\xbd") == "\"\xef\xbf\xbd\"");             // a real U+FFFD stays raw
}

TEST_CASE("gojson number: integers and Go float64 formatting") {
    CHECK(gojson::number(ordered(0)) == "0");
    CHECK(gojson::number(ordered(-42)) == "-42");
    CHECK(gojson::number(ordered(INT64_MIN)) == "-9223372036854775808");
    CHECK(gojson::number(ordered(UINT64_MAX)) == "18446744073709551615");
    CHECK(gojson::number(ordered(1.0)) == "1");
    CHECK(gojson::number(ordered(1.5)) == "1.5");
    CHECK(gojson::number(ordered(0.1)) == "0.1");
    CHECK(gojson::number(ordered(-0.0)) == "-0");
    CHECK(gojson::number(ordered(123456789.125)) == "123456789.125");
    CHECK(gojson::number(ordered(1e20)) == "100000000000000000000");
    CHECK(gojson::number(ordered(1e21)) == "1e+21");
    CHECK(gojson::number(ordered(1.5e300)) == "1.5e+300");
    CHECK(gojson::number(ordered(0.000001)) == "0.000001");
    CHECK(gojson::number(ordered(1e-7)) == "1e-7");  // Go trims e-07 to e-7
    CHECK(gojson::number(ordered(-2.5e-10)) == "-2.5e-10");
    CHECK(gojson::number(ordered(5e-324)) == "5e-324");
    CHECK(gojson::number(ordered(1.7976931348623157e308)) == "1.7976931348623157e+308");
    CHECK_THROWS(gojson::number(ordered("1")));
    CHECK_THROWS(gojson::compact(ordered(std::numeric_limits<double>::infinity())));
}

TEST_CASE("gojson layouts: compact, MarshalIndent, canonical") {
    ordered v = ordered::object();
    v["z"] = 1;
    v["a"] = ordered::array({"x", true, nullptr});
    v["empty_a"] = ordered::array();
    v["empty_o"] = ordered::object();
    v["nested"] = ordered{{"B", 2.5}, {"A", "<"}};
    CHECK(gojson::compact(v) ==
          R"({"z":1,"a":["x",true,null],"empty_a":[],"empty_o":{},"nested":{"B":2.5,"A":"\u003c"}})");
    CHECK(gojson::indent(v) == R"({
  "z": 1,
  "a": [
    "x",
    true,
    null
  ],
  "empty_a": [],
  "empty_o": {},
  "nested": {
    "B": 2.5,
    "A": "\u003c"
  }
})");
    CHECK(gojson::canonical(v) ==
          R"({"a":["x",true,null],"empty_a":[],"empty_o":{},"nested":{"A":"\u003c","B":2.5},"z":1})");
    CHECK(gojson::indent(ordered("scalar")) == R"("scalar")");
    CHECK(gojson::indent(ordered::array()) == "[]");
}

TEST_CASE("gojson canonical: byte-order keys, float64 numbers, decoded strings") {
    ordered v = ordered::object();
    v["\xc3\xa9"] = 1;  // 0xC3 sorts after every ASCII key
    v["b"] = 2;
    v["B"] = 3;
    v["_"] = 4;
    CHECK(gojson::canonical(v) == "{\"B\":3,\"_\":4,\"b\":2,\"\xc3\xa9\":1}");
    // Sorted by the keys themselves, not by their escaped forms: "\n" (0x0A) sorts before '!' (0x21)
    // although its escape starts with '\' (0x5C); a key sorts before its own extensions.
    ordered esc = ordered::object();
    for (const char *k : {"a\\", "a\"", "a!", "a\n", "a<", "a"}) esc[k] = 0;
    CHECK(gojson::canonical(esc) == R"({"a":0,"a\n":0,"a!":0,"a\"":0,"a\u003c":0,"a\\":0})");
    // Every number went through float64.
    CHECK(gojson::canonical(ordered(9007199254740993LL)) == "9007199254740992");
    CHECK(gojson::canonical(ordered(UINT64_MAX)) == "18446744073709552000");
    CHECK(gojson::compact(ordered(UINT64_MAX)) == "18446744073709551615");
    // Marshal wrote "\ufffd" for a bad byte; the decode-and-re-marshal step leaves the raw rune.
    CHECK(gojson::compact(ordered("a\xff")) == R"("a\ufffd")");
    CHECK(gojson::canonical(ordered("a\xff")) == "\"a\xef\xbf\xbd\"");
    // Two keys that decode to the same string: the later one (in Marshal order) wins.
    ordered dup = ordered::object();
    dup["k\xfe"] = 1;
    dup["k\xff"] = 2;
    CHECK(gojson::canonical(dup) == "{\"k\xef\xbf\xbd\":2}");
}

TEST_CASE("gojson parse: Go decoder string rules") {
    CHECK(decoded_string(R"("\u00e9\/\b\f\n\r\t\"\\")") == "\xc3\xa9/\b\f\n\r\t\"\\");
    CHECK(decoded_string(R"("\ud83d\ude00")") == "\xf0\x9f\x98\x80");  // surrogate pair
    CHECK(decoded_string(R"("\ud800")") == "\xef\xbf\xbd");            // lone high surrogate
    CHECK(decoded_string(R"("\udc00x")") == "\xef\xbf\xbdx");          // lone low surrogate
    CHECK(decoded_string(R"("\ud800\u0041")") == "\xef\xbf\xbd" "A");  // high + non-surrogate
    CHECK(decoded_string(R"("\ud800\ud800\udc00")") == "\xef\xbf\xbd\xf0\x90\x80\x80");
    CHECK(decoded_string("\"a\xff\xc3\"") == "a\xef\xbf\xbd\xef\xbf\xbd");  // raw bad bytes, one each
    CHECK(decoded_string("\"\x7f\xe2\x80\xa8\"") == "\x7f\xe2\x80\xa8");
}

TEST_CASE("gojson parse: values, duplicates, numbers") {
    auto v = gojson::parse(R"( {"a":1,"b":[true,false,null],"a":2,"c":{"x":-0.5e1}} )");
    REQUIRE(v);
    // A repeated key keeps its last value, at its last position.
    CHECK(gojson::compact(*v) == R"({"b":[true,false,null],"a":2,"c":{"x":-5}})");
    CHECK(gojson::compact(*gojson::parse("-0")) == "-0");  // Go decodes it to float64 -0
    CHECK(gojson::parse("0")->is_number_integer());
    CHECK(gojson::parse("18446744073709551615")->is_number_unsigned());
    CHECK(gojson::parse("18446744073709551616")->is_number_float());
    CHECK(gojson::parse("1.0")->is_number_float());
    CHECK(std::isinf(gojson::parse("1e400")->get<double>()));
    CHECK(gojson::parse("-1e-400")->get<double>() == 0.0);
    CHECK(gojson::parse("0.000000000000000000000000000001e30")->get<double>() == 1.0);
    CHECK(gojson::parse(std::string(10000, '[') + std::string(10000, ']')));  // Go's nesting limit...
    CHECK_FALSE(gojson::parse(std::string(10001, '[') + std::string(10001, ']')));  // ...and one past it
}

TEST_CASE("gojson parse: malformed input is rejected") {
    for (const char *bad : {"", "   ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "[1 2]",
                            "01", "1.", ".5", "+1", "-", "1e", "1e+", "NaN", "Infinity", "tru", "nul", "nulls",
                            "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "{} {}", "1 2", "\xef\xbb\xbf{}",
                            "[\"a\"]x", "\"tab\there\"", "\"nl\nhere\""}) {
        CAPTURE(bad);
        CHECK(parse_error(bad) != "");
    }
    CHECK(parse_error("") == "unexpected end of JSON input");
    CHECK(parse_error("\"\\u0000\"") == "");  // an escaped NUL is fine
}

TEST_CASE("gojson decode_struct: Go field matching and null semantics") {
    std::string name = "keep", note;
    std::vector<std::string> tags = {"old"};
    int64_t level = 7;
    Timestamp t;
    const std::vector<gojson::Field> fields = {
        {"worktree_name", [&](auto &v) { gojson::decode_string(v, name); }},
        {"note", [&](auto &v) { gojson::decode_string(v, note); }},
        {"tags", [&](auto &v) { gojson::decode_string_list(v, tags); }},
        {"level", [&](auto &v) { gojson::decode_int(v, level); }},
        {"snapshot_time", [&](auto &v) { gojson::decode_time(v, t); }},
    };
    // Case-insensitive, including U+212A KELVIN SIGN for k and U+017F LONG S for s; unknown keys skipped.
    CHECK_FALSE(gojson::decode_document(
        "{\"WORKTREE_NAME\":\"a\",\"NoTe\":\"b\",\"unknown\":{\"deep\":[1]},\"Level\":3,"
        "\"\xc5\xbfnapshot_time\":\"2026-01-02T03:04:05Z\"}",
        fields));
    CHECK(name == "a");
    CHECK(note == "b");
    CHECK(level == 3);
    CHECK(t.sec == 1767323045);
    CHECK_FALSE(gojson::decode_document("{\"wor\xe2\x84\xaatree_name\":\"kelvin\"}", fields));
    CHECK(name == "kelvin");
    // Later members win; null leaves a scalar alone and empties a slice.
    CHECK_FALSE(gojson::decode_document(R"({"note":"x","NOTE":"y","note":null,"tags":null,"level":null})", fields));
    CHECK(note == "y");
    CHECK(tags.empty());
    CHECK(level == 3);
    CHECK_FALSE(gojson::decode_document(R"({"tags":["a",null,"c"]})", fields));
    CHECK(tags == std::vector<std::string>{"a", "", "c"});
    CHECK_FALSE(gojson::decode_document("null", fields));
    CHECK(name == "kelvin");
    // Type mismatches are errors.
    for (const char *bad : {"[]", "\"s\"", "1", R"({"note":1})", R"({"note":true})", R"({"tags":"a"})", R"({"tags":[1]})",
                            R"({"level":1.0})", R"({"level":1e2})", R"({"level":"1"})", R"({"level":9223372036854775808})",
                            R"({"snapshot_time":"yesterday"})", R"({"snapshot_time":0})", "{\"note\":\"x\"} trailing"}) {
        CAPTURE(bad);
        CHECK(gojson::decode_document(bad, fields).has_value());
    }
    CHECK_FALSE(gojson::decode_document(R"({"level":-9223372036854775808})", fields));
    CHECK(level == INT64_MIN);
}
