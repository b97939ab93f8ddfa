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

std::string payload_root_hash(size_t n, const std::function<PayloadEntry(size_t)> &entry) {
    // Every line in one buffer, sorted as views into it: a million lines cost their bytes, not a
    // million strings.
    std::string arena;
    std::vector<std::pair<size_t, size_t>> spans;  // (offset, length) in arena
    spans.reserve(n);
    for (size_t i = 0; i < n; i++) {
        PayloadEntry e = entry(i);
        if (basename_of(e.rel) == kReady) continue;
        std::string line = payload_line(e);
        spans.emplace_back(arena.size(), line.size());
        arena += line;
    }
    std::vector<std::string_view> lines;
    lines.reserve(spans.size());
    for (const auto &[off, len] : spans) lines.emplace_back(arena.data() + off, len);
    std::vector<std::pair<size_t, size_t>>().swap(spans);
    std::sort(lines.begin(), lines.end());  // whole lines, byte order (Go sort.Strings)
    Sha256 h;
    for (const auto &line : lines) {
        h.update(line);
        h.update("\n", 1);
    }
    return h.hex();
}

std::string payload_root_hash(const std::vector<PayloadEntry> &entries) {
    return payload_root_hash(entries.size(), [&](size_t i) { return entries[i]; });
}

}  // namespace jvs
