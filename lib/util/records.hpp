// Record files: a header line, then records of NUL-terminated fields, each record ending with an
// extra NUL, then a trailer "END <sha256 of everything before it>\n". Binary-safe for any path byte
// except NUL (which no POSIX path contains), trivially fast to parse, and replaced atomically. Used by
// the stat cache and snapshot manifests.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jvs {

using Record = std::vector<std::string>;

std::string encode_records(std::string_view header, const std::vector<Record> &records);
// nullopt if the header differs, the data is truncated/malformed or the checksum does not match
// (callers treat that as "absent"). Without `require_checksum` a bare "END\n" trailer (files written
// before the checksum existed) is accepted too.
std::optional<std::vector<Record>> decode_records(std::string_view header, std::string_view data,
                                                  bool require_checksum = false);

}  // namespace jvs
