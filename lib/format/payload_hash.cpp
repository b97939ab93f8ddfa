// internal/integrity/payload_hash.go (UPSTREAM_FACTS section 4), byte for byte. Walking a real tree
// lives with the other tree walks (repo/manifest.hpp: payload_root_hash_of_dir).
#include "format/payload_hash.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

constexpr std::string_view kReady = ".READY";

std::string_view basename_of(std::string_view rel) {
    const size_t slash = rel.rfind('/');
    return slash == std::string_view::npos ? rel : rel.substr(slash + 1);
}

}  // namespace

std::string payload_line(const PayloadEntry &e) {
    const char *type = e.type == 'd' ? "dir" : e.type == 'l' ? "symlink" : "file";
    char meta[64];
    if (e.type == 'f') {
        std::snprintf(meta, sizeof meta, "mode=%04o,size=%llu", e.perm, static_cast<unsigned long long>(e.size));
    } else {
        std::snprintf(meta, sizeof meta, "mode=%04o", e.perm);
    }
    return std::string(type) + ":" + e.rel + ":" + meta + ":" + e.hash;
}

std::string payload_root_hash(const std::vector<PayloadEntry> &entries) {
    std::vector<std::string> lines;
    lines.reserve(entries.size());
    for (const auto &e : entries)
        if (basename_of(e.rel) != kReady) lines.push_back(payload_line(e));
    std::sort(lines.begin(), lines.end());  // whole lines, byte order (Go sort.Strings)
    Sha256 h;
    for (const auto &line : lines) {
        h.update(line);
        h.update("\n", 1);
    }
    return h.hex();
}


}  // namespace jvs
