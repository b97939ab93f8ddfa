// JSON bytes exactly as Go's encoding/json writes them (Go >= 1.22): json.Marshal (compact),
// json.MarshalIndent(v, "", "  ") and jvs's CanonicalMarshal (keys sorted bytewise, compact).
// Objects keep insertion order (nlohmann::ordered_json) for struct-ordered files.
#pragma once
#include <nlohmann/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "format/gotime.hpp"

namespace jvs::gojson {

using ordered = nlohmann::ordered_json;

// Go string escaping: \" \\ \n \r \t \b \f short forms, other bytes < 0x20 as \u00xx (lowercase),
// HTML escapes < > & as \u003c \u003e \u0026, U+2028/U+2029 escaped, invalid UTF-8 -> \ufffd,
// everything else (DEL, non-ASCII) raw.
std::string quote(std::string_view s);

// Go number formatting for a JSON number value (integers as decimal; floats per Go's float64 rules).
std::string number(const ordered &v);

std::string compact(const ordered &v);  // json.Marshal
std::string indent(const ordered &v);   // json.MarshalIndent(v, "", "  "), no trailing newline

// CanonicalMarshal: object keys sorted by bytes at every level, compact, Go escaping.
std::string canonical(const ordered &v);

// ---- reading, with Go json.Unmarshal semantics -------------------------------------------------

// Parses JSON as Go's decoder does: strict grammar (no trailing garbage), invalid UTF-8 bytes and
// unpaired \ud800-style escapes become U+FFFD, a repeated key keeps its last value (placed at its last
// position), integer literals stay integers (int64, else uint64, else double; "-0" is -0.0), a float
// literal beyond double range is kept as +-inf. nullopt when the bytes are not JSON; *error (if given)
// then says why.
std::optional<ordered> parse(std::string_view bytes, std::string *error = nullptr);

// Thrown by the field decoders below when a JSON type does not fit the Go field.
struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One json-tagged field of a Go struct: `set` decodes a member's value into the C++ target. Under
// decode_document the value is the raw parse, where an object may repeat a key: decode it with the
// decoders below (or iterate it), not with find()/operator[].
struct Field {
    std::string_view name;
    std::function<void(const ordered &)> set;
};

// Decodes an object value into a struct: members are taken in document order and each goes to the
// field whose name matches exactly, else case-insensitively as Go folds names (ASCII, plus U+017F and
// U+212A); unknown members are skipped; null is a no-op; any other non-object throws DecodeError.
void decode_struct(const ordered &v, const std::vector<Field> &fields);
// Parses a whole document and decode_struct's it, every member of a repeated key included (so a wrong
// type in an overwritten member is still an error, as in Go). Returns the error text, or nullopt.
std::optional<std::string> decode_document(std::string_view bytes, const std::vector<Field> &fields);
// Go's decoding into `any` (map[string]any values): repeated keys reduced to the last one, every number
// a float64, DecodeError for a number beyond float64 range.
ordered decode_any(const ordered &v);

// Field decoders. As in Go, null leaves a string/int/time untouched and resets a slice to empty;
// elements are decoded into the existing slice positions.
void decode_string(const ordered &v, std::string &out);
void decode_string_list(const ordered &v, std::vector<std::string> &out);
void decode_int(const ordered &v, int64_t &out);  // integer literals only, like Go's int
void decode_time(const ordered &v, Timestamp &out);  // RFC 3339 string (parse_rfc3339)

}  // namespace jvs::gojson
