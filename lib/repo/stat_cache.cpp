#include "repo/stat_cache.hpp"

#include <time.h>

#include <algorithm>

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

StatCache StatCache::load(const std::string &path, std::string *problem) {
    StatCache c;
    auto st = lstat_path(path);
    auto raw = read_file_if_exists(path);
    if (!st || !raw) return c;
    auto dropped = [&](const std::string &why) {
        if (problem) *problem = why;
        return StatCache();
    };
    // The whole file or nothing: a cache whose checksum fails, or with one entry that is not what jvs
    // writes, was damaged or edited, and an edited entry could make a snapshot store stale content.
    // Decoded record by record straight into the table (no copy of every field on the way).
    std::string why = "the file is torn, of another format, or fails its checksum";
    c.entries_.reserve(count_records(*raw));
    bool ok = for_each_record(header(), *raw, true, [&](const std::vector<std::string_view> &r) {
        Entry e;
        if (r.size() != 8) return why = "a record has " + std::to_string(r.size()) + " fields", false;
        if (unsafe_path_reason(r[0])) return why = "an entry names an unsafe path", false;
        if (!digest_from_hex(r[7], e.hash)) return why = "an entry's hash is not a sha256", false;
        if (!parse_number(r[1], e.key.dev) || !parse_number(r[2], e.key.ino) || !parse_number(r[3], e.key.size) ||
            !parse_number(r[4], e.key.mtime_ns) || !parse_number(r[5], e.key.ctime_ns) || !parse_number(r[6], e.key.mode))
            return why = "an entry's stat fields are not numbers", false;
        c.entries_.emplace(std::string(r[0]), e);
        return true;
    });
    if (!ok) return dropped(why);
    c.written_ns_ = mtime_ns(*st);
    return c;
}

std::vector<StatCache::Item> StatCache::items() const {
    std::lock_guard<std::mutex> g(*mu_);
    std::vector<Item> out;
    out.reserve(entries_.size());
    for (const auto &[rel, e] : entries_) out.push_back({rel, e.key, digest_hex(e.hash)});
    std::sort(out.begin(), out.end(), [](const Item &a, const Item &b) { return a.rel < b.rel; });
    return out;
}

std::optional<std::string> StatCache::lookup(const std::string &rel, const struct stat &st) const {
    std::lock_guard<std::mutex> g(*mu_);
    auto it = entries_.find(rel);
    if (it == entries_.end()) return std::nullopt;
    const Entry &e = it->second;
    if (e.key.dev == 0 && e.key.ino == 0) {  // put_unseen: ctime_ns holds the bound
        bool same = e.key.size == static_cast<uint64_t>(st.st_size) && e.key.mtime_ns == jvs::mtime_ns(st) &&
                    e.key.mode == static_cast<uint32_t>(st.st_mode);
        bool untouched = jvs::ctime_ns(st) < e.key.ctime_ns && jvs::mtime_ns(st) < e.key.ctime_ns;
        return same && untouched && e.key.ctime_ns <= written_ns_ ? std::optional<std::string>(digest_hex(e.hash))
                                                                   : std::nullopt;
    }
    if (!(e.key == StatKey::of(st))) return std::nullopt;
    // Racily clean: changed within the same timestamp tick as (or after) the cache was written.
    if (e.key.mtime_ns >= written_ns_ || e.key.ctime_ns >= written_ns_) return std::nullopt;
    return digest_hex(e.hash);
}

namespace {
Digest digest_of(const std::string &hex) {
    Digest d{};
    if (!digest_from_hex(hex, d)) fail("E_INTERNAL", "not a sha256: " + hex, "report this as a bug");
    return d;
}
}  // namespace

void StatCache::put(const std::string &rel, const struct stat &st, const std::string &hash) {
    Digest d = digest_of(hash);
    std::lock_guard<std::mutex> g(*mu_);
    entries_[rel] = Entry{StatKey::of(st), d};
}

void StatCache::put_unseen(const std::string &rel, uint64_t size, int64_t mtime, uint32_t mode,
                           const std::string &hash, int64_t unchanged_before_ns) {
    Digest d = digest_of(hash);
    std::lock_guard<std::mutex> g(*mu_);
    entries_[rel] = Entry{StatKey{0, 0, size, mtime, unchanged_before_ns, mode}, d};
}

void StatCache::erase_missing(const std::unordered_map<std::string, bool> &keep) {
    std::lock_guard<std::mutex> g(*mu_);
    for (auto it = entries_.begin(); it != entries_.end();)
        it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
}

void StatCache::save(const std::string &path) const {
    std::string bytes;
    {
        std::lock_guard<std::mutex> g(*mu_);
        RecordWriter w(header(), entries_.size() * 160);
        for (const auto &[rel, e] : entries_) {
            w.field(rel).number(e.key.dev).number(e.key.ino).number(e.key.size).number(e.key.mtime_ns);
            w.number(e.key.ctime_ns).number(e.key.mode).field(digest_hex(e.hash));
            w.end_record();
        }
        bytes = w.finish();
    }
    atomic_write(path, bytes, 0644);
}

}  // namespace jvs
