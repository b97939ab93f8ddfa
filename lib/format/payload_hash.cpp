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
#include <cstring>
#include <thread>

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

namespace {

constexpr size_t kParallelSortFrom = 1 << 16;

// Where a type's lines sort among the others: "dir:" < "file:" < "symlink:".
int type_rank(char type) { return type == 'd' ? 0 : type == 'l' ? 2 : 1; }

// Whether line(a) < line(b) for two entries of one type, from their paths alone: each line continues
// its path with ':', so paths compare as if ':' followed them. Only when one path continues the
// other with a ':' of its own do the rest of the lines decide (`full`: builds both).
bool rel_line_less(std::string_view a, std::string_view b, const std::function<bool()> &full) {
    const size_t k = std::min(a.size(), b.size());
    if (int c = std::memcmp(a.data(), b.data(), k)) return c < 0;
    if (a.size() == b.size()) return false;
    const auto next = static_cast<unsigned char>(a.size() < b.size() ? b[k] : a[k]);
    if (next == ':') return full();
    return a.size() < b.size() ? ':' < next : next < ':';
}

}  // namespace

std::string payload_root_hash(size_t n, const std::function<std::string_view(size_t)> &rel,
                              const std::function<char(size_t)> &type,
                              const std::function<PayloadEntry(size_t)> &entry) {
    // Sorted as keys (a view of the path, the entry's index, its type's rank), each line built only
    // when it is hashed: a million entries cost 24 bytes each here, not their lines (~110 bytes
    // each) held at once. A large table is sorted in two halves on two threads, then merged.
    struct Key {
        std::string_view rel;
        uint32_t index;
        int rank;
    };
    std::vector<Key> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; i++)
        if (std::string_view r = rel(i); basename_of(r) != kReady)
            keys.push_back({r, static_cast<uint32_t>(i), type_rank(type(i))});
    auto less = [&](const Key &a, const Key &b) {
        if (a.rank != b.rank) return a.rank < b.rank;
        return rel_line_less(a.rel, b.rel,
                             [&] { return payload_line(entry(a.index)) < payload_line(entry(b.index)); });
    };  // whole lines, byte order (Go sort.Strings)
    const auto mid = keys.begin() + static_cast<std::ptrdiff_t>(keys.size() / 2);
    if (keys.size() >= kParallelSortFrom) {
        std::thread first([&] { std::sort(keys.begin(), mid, less); });
        std::sort(mid, keys.end(), less);
        first.join();
        std::inplace_merge(keys.begin(), mid, keys.end(), less);
    } else {
        std::sort(keys.begin(), keys.end(), less);
    }
    std::vector<uint32_t> order;
    order.reserve(keys.size());
    for (const Key &k : keys) order.push_back(k.index);
    std::vector<Key>().swap(keys);
    Sha256 h;
    for (uint32_t i : order) {
        h.update(payload_line(entry(i)));
        h.update("\n", 1);
    }
    return h.hex();
}

std::string payload_root_hash(const std::vector<PayloadEntry> &entries) {
    return payload_root_hash(
        entries.size(), [&](size_t i) { return std::string_view(entries[i].rel); },
        [&](size_t i) { return entries[i].type; }, [&](size_t i) { return entries[i]; });
}

}  // namespace jvs
