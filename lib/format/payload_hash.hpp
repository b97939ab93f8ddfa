// payload_root_hash: the Go tool's tree hash, exactly (UPSTREAM_FACTS section 4).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace jvs {

struct PayloadEntry {
    char type = 'f';      // 'd' directory, 'f' file (anything not dir/symlink), 'l' symlink
    std::string rel;      // relative path with '/' separators, raw bytes
    uint32_t perm = 0;    // st_mode & 0777
    uint64_t size = 0;    // files only
    std::string hash;     // hex sha256: file content | symlink target | directory basename
};

// "<type>:<rel>:<meta>:<hash>" with type dir/file/symlink and meta mode=%04o[,size=%d].
std::string payload_line(const PayloadEntry &e);
// Skips every entry whose basename is ".READY" (at any depth), sorts the lines bytewise,
// hashes the concatenation of line + "\n".
std::string payload_root_hash(const std::vector<PayloadEntry> &entries);
// The same over n entries read through accessors (a manifest's, without copying it): `rel` and
// `type` are asked while sorting, `entry` about once per entry, when its line is hashed.
std::string payload_root_hash(size_t n, const std::function<std::string_view(size_t)> &rel,
                              const std::function<char(size_t)> &type,
                              const std::function<PayloadEntry(size_t)> &entry);

}  // namespace jvs
