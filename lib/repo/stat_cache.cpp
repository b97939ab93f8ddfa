#include "repo/stat_cache.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <shared_mutex>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"
#include "util/records.hpp"

namespace jvs {

namespace {
// The header names the host that wrote the cache (host_tag: boot id, pid namespace, host name), and
// a cache is trusted only where it was written. Entries vouch for a stat as this host's kernel saw
// it, with times this host's clock bounds (racy entries, put_unseen): on a filesystem that several
// hosts mount, another host's entries could match a stat by chance of equal device numbers, and its
// clock bounds mean nothing here. Another host, or this one after a reboot, starts empty. Version 2
// carries a checksum (util/records): a version-1 file is dropped once, costing one re-hash.
const std::string &header() {
    static const std::string h = "jvs-stat-cache 2 h" + host_tag();
    return h;
}
}  // namespace

int64_t mtime_ns(const struct stat &st) { return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec; }
int64_t ctime_ns(const struct stat &st) { return st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec; }

int64_t stamp_clock_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

StatKey StatKey::of(const struct stat &st) {
    return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
            jvs::mtime_ns(st), jvs::ctime_ns(st), static_cast<uint32_t>(st.st_mode)};
}

// One entry in 88 bytes, its path's bytes lying in its table's arena (no heap string per entry:
// at a million entries, a map of strings costs twice this).
struct StatCache::Row {
    uint64_t path_at = 0;  // offset of the path in the arena
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    uint32_t mode = 0, path_len = 0;
    Digest hash{};

    Row() = default;
    Row(const StatKey &k, const Digest &d)
        : dev(k.dev), ino(k.ino), size(k.size), mtime_ns(k.mtime_ns), ctime_ns(k.ctime_ns), mode(k.mode), hash(d) {}
    StatKey key() const { return {dev, ino, size, mtime_ns, ctime_ns, mode}; }
    Row &at(uint64_t offset, size_t len) {
        path_at = offset;
        path_len = static_cast<uint32_t>(len);
        return *this;
    }
    std::string_view path(const std::string &arena) const { return {arena.data() + path_at, path_len}; }
};

// The loaded cache: rows sorted by path, one path per row, read-only while workers look up.
struct StatCache::Table {
    static_assert(sizeof(Row) <= 88, "a stat cache row should stay compact");
    std::vector<Row> rows;
    std::string paths;

    // jvs writes its caches in path order; one written before (in hash-table order) is sorted here,
    // in place. Where a path repeats, its first entry is kept (ties are ordered by arena offset,
    // i.e. by position in the file).
    void sort_unique() {
        auto less = [&](const Row &a, const Row &b) {
            int c = a.path(paths).compare(b.path(paths));
            return c < 0 || (c == 0 && a.path_at < b.path_at);
        };
        if (!std::is_sorted(rows.begin(), rows.end(), less)) std::sort(rows.begin(), rows.end(), less);
        rows.erase(std::unique(rows.begin(), rows.end(),
                               [&](const Row &a, const Row &b) { return a.path(paths) == b.path(paths); }),
                   rows.end());
    }

    const Row *find(std::string_view rel) const {
        auto it = std::lower_bound(rows.begin(), rows.end(), rel,
                                   [&](const Row &r, std::string_view p) { return r.path(paths) < p; });
        return it != rows.end() && it->path(paths) == rel ? &*it : nullptr;
    }
};

// What this run put: rows in arrival order (a deque never moves them), found by an open-addressing
// index of row numbers. A lookup reads it under a shared lock only where `maybe` has the bit of its
// path's hash set (a put sets it): a snapshot that puts a few changed files takes the lock for about
// as few lookups, and one whose cache vouches for everything never does.
struct StatCache::Side {
    mutable std::shared_mutex mu;
    static constexpr size_t kBits = 1 << 16;
    std::array<std::atomic<uint64_t>, kBits / 64> maybe{};  // 8 KiB
    std::deque<Row> rows;
    std::string paths;
    std::vector<uint32_t> slots;  // row number + 1; 0 = free. At most half full.

    static size_t hash(std::string_view rel) { return std::hash<std::string_view>()(rel); }
    bool may_hold(size_t h) const {
        return maybe[(h % kBits) / 64].load(std::memory_order_acquire) & (uint64_t{1} << (h % 64));
    }
    size_t slot_of(std::string_view rel) const {
        const size_t mask = slots.size() - 1;
        size_t i = hash(rel) & mask;
        while (slots[i] && rows[slots[i] - 1].path(paths) != rel) i = (i + 1) & mask;
        return i;
    }
    const Row *find(std::string_view rel) const {
        if (slots.empty()) return nullptr;
        uint32_t n = slots[slot_of(rel)];
        return n ? &rows[n - 1] : nullptr;
    }
    void put(std::string_view rel, const Row &fields) {
        if ((rows.size() + 1) * 2 > slots.size()) grow();
        uint32_t &n = slots[slot_of(rel)];
        if (!n) {
            rows.push_back(Row(fields).at(paths.size(), rel.size()));
            paths.append(rel);
            n = static_cast<uint32_t>(rows.size());
        } else {
            Row &r = rows[n - 1];
            r = Row(fields.key(), fields.hash).at(r.path_at, r.path_len);
        }
        const size_t h = hash(rel);
        maybe[(h % kBits) / 64].fetch_or(uint64_t{1} << (h % 64), std::memory_order_release);
    }
    void grow() {
        slots.assign(std::max<size_t>(64, slots.size() * 2), 0);
        for (size_t k = 0; k < rows.size(); k++) slots[slot_of(rows[k].path(paths))] = static_cast<uint32_t>(k + 1);
    }
};

StatCache::StatCache() : loaded_(std::make_unique<Table>()), side_(std::make_unique<Side>()) {}
StatCache::~StatCache() = default;
StatCache::StatCache(StatCache &&) noexcept = default;
StatCache &StatCache::operator=(StatCache &&) noexcept = default;

StatCache StatCache::load(const std::string &path, std::string *problem) {
    StatCache c;
    auto st = lstat_path(path);
    if (!st) return c;
    auto dropped = [&](const std::string &why) {
        if (problem) *problem = why;
        return StatCache();
    };
    // The whole file or nothing: a cache whose checksum fails, or with one entry that is not what jvs
    // writes, was damaged or edited, and an edited entry could make a snapshot store stale content.
    // Streamed twice, never held whole: checked and counted, then decoded straight into a table of
    // exactly that size (no copy of every field on the way, no table growing by doubling).
    std::string why = "the file is torn, of another format, or fails its checksum";
    size_t n = 0, path_bytes = 0;
    auto counted = for_each_record_in_file(path, header(), true, [&](const std::vector<std::string_view> &r) {
        n++;
        path_bytes += r.empty() ? 0 : r[0].size();
        return true;
    });
    if (!counted) return c;
    if (!*counted) return dropped(why);
    Table &t = *c.loaded_;
    t.rows.reserve(n);
    t.paths.reserve(path_bytes);
    bool ok = for_each_record_in_file(path, header(), true, [&](const std::vector<std::string_view> &r) {
        Row e;
        if (r.size() != 8) return why = "a record has " + std::to_string(r.size()) + " fields", false;
        if (unsafe_path_reason(r[0])) return why = "an entry names an unsafe path", false;
        if (!digest_from_hex(r[7], e.hash)) return why = "an entry's hash is not a sha256", false;
        if (!parse_number(r[1], e.dev) || !parse_number(r[2], e.ino) || !parse_number(r[3], e.size) ||
            !parse_number(r[4], e.mtime_ns) || !parse_number(r[5], e.ctime_ns) || !parse_number(r[6], e.mode))
            return why = "an entry's stat fields are not numbers", false;
        t.rows.push_back(e.at(t.paths.size(), r[0].size()));
        t.paths.append(r[0]);
        return true;
    }).value_or(false);
    if (!ok) return dropped(why);
    t.sort_unique();
    c.written_ns_ = mtime_ns(*st);
    return c;
}

std::optional<std::string> StatCache::lookup(const std::string &rel, const struct stat &st) const {
    // A put wins over what was loaded: the side table first, when it may hold the path.
    std::optional<Row> put;
    if (side_->may_hold(Side::hash(rel))) {
        std::shared_lock<std::shared_mutex> g(side_->mu);
        if (const Row *r = side_->find(rel)) put = *r;
    }
    const Row *e = put ? &*put : loaded_->find(rel);
    if (!e) return std::nullopt;
    if (e->dev == 0 && e->ino == 0) {  // put_unseen: ctime_ns holds the bound
        bool same = e->size == static_cast<uint64_t>(st.st_size) && e->mtime_ns == jvs::mtime_ns(st) &&
                    e->mode == static_cast<uint32_t>(st.st_mode);
        bool untouched = jvs::ctime_ns(st) < e->ctime_ns && jvs::mtime_ns(st) < e->ctime_ns;
        return same && untouched && e->ctime_ns <= written_ns_ ? std::optional<std::string>(digest_hex(e->hash))
                                                                 : std::nullopt;
    }
    if (!(e->key() == StatKey::of(st))) return std::nullopt;
    // Racily clean: changed within the same timestamp tick as (or after) the cache was written.
    if (e->mtime_ns >= written_ns_ || e->ctime_ns >= written_ns_) return std::nullopt;
    return digest_hex(e->hash);
}

namespace {
Digest digest_of(const std::string &hex) {
    Digest d{};
    if (!digest_from_hex(hex, d)) fail("E_INTERNAL", "not a sha256: " + hex, "report this as a bug");
    return d;
}
}  // namespace

void StatCache::put(const std::string &rel, const struct stat &st, const std::string &hash) {
    Row r(StatKey::of(st), digest_of(hash));
    std::unique_lock<std::shared_mutex> g(side_->mu);
    side_->put(rel, r);
}

void StatCache::put_unseen(const std::string &rel, uint64_t size, int64_t mtime, uint32_t mode,
                           const std::string &hash, int64_t unchanged_before_ns) {
    Row r(StatKey{0, 0, size, mtime, unchanged_before_ns, mode}, digest_of(hash));
    std::unique_lock<std::shared_mutex> g(side_->mu);
    side_->put(rel, r);
}

// Every entry once, in path order: the loaded table and the side table merged, a put replacing the
// loaded entry of its path. fn(path, row).
template <typename Fn>
void StatCache::for_each_merged(Fn &&fn) const {
    std::shared_lock<std::shared_mutex> g(side_->mu);
    const Side &s = *side_;
    std::vector<uint32_t> order(s.rows.size());  // 4 bytes per put, not a copy of them
    for (size_t k = 0; k < order.size(); k++) order[k] = static_cast<uint32_t>(k);
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return s.rows[a].path(s.paths) < s.rows[b].path(s.paths); });
    const Table &t = *loaded_;
    size_t i = 0, k = 0;
    while (i < t.rows.size() || k < order.size()) {
        std::string_view lp = i < t.rows.size() ? t.rows[i].path(t.paths) : std::string_view();
        std::string_view sp = k < order.size() ? s.rows[order[k]].path(s.paths) : std::string_view();
        if (k == order.size() || (i < t.rows.size() && lp < sp)) {
            fn(lp, t.rows[i++]);
        } else {
            if (i < t.rows.size() && lp == sp) i++;
            fn(sp, s.rows[order[k++]]);
        }
    }
}

void StatCache::erase_missing(const std::unordered_map<std::string, bool> &keep) {
    auto kept = [&](std::string_view rel) { return keep.count(std::string(rel)) != 0; };
    Table &t = *loaded_;
    t.rows.erase(std::remove_if(t.rows.begin(), t.rows.end(), [&](const Row &r) { return !kept(r.path(t.paths)); }),
                 t.rows.end());
    auto side = std::make_unique<Side>();
    for (const Row &r : side_->rows)
        if (kept(r.path(side_->paths))) side->put(r.path(side_->paths), r);
    side_ = std::move(side);
}

size_t StatCache::size() const {
    size_t n = loaded_->rows.size();
    std::shared_lock<std::shared_mutex> g(side_->mu);
    for (const Row &r : side_->rows) n += loaded_->find(r.path(side_->paths)) ? 0 : 1;
    return n;
}

std::vector<StatCache::Item> StatCache::items() const {
    std::vector<Item> out;
    for_each_merged([&](std::string_view rel, const Row &r) { out.push_back({std::string(rel), r.key(), digest_hex(r.hash)}); });
    return out;
}

void StatCache::save(const std::string &path) const {
    // Streamed to the file through one buffer: never the whole file in memory.
    write_record_file(path, header(), 0644, [&](RecordWriter &w) {
        for_each_merged([&](std::string_view rel, const Row &e) {
            w.field(rel).number(e.dev).number(e.ino).number(e.size).number(e.mtime_ns);
            w.number(e.ctime_ns).number(e.mode).field(digest_hex(e.hash));
            w.end_record();
        });
    });
}

}  // namespace jvs
