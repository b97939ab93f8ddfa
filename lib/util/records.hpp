// Record files: a header line, then records of NUL-terminated fields, each record ending with an
// extra NUL. Binary-safe for any path byte except NUL (which no POSIX path contains), trivially
// fast to parse, and replaced atomically. Used by the stat cache and snapshot manifests.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jvs {

using Record = std::vector<std::string>;

std::string encode_records(std::string_view header, const std::vector<Record> &records);
// nullopt if the header differs or the data is truncated/malformed (callers treat that as "absent").
std::optional<std::vector<Record>> decode_records(std::string_view header, std::string_view data);

}  // namespace jvs
