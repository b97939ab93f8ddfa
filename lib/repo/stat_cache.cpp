#include "repo/stat_cache.hpp"

#include <time.h>

#include "util/fs.hpp"
#include "util/records.hpp"

namespace jvs {

namespace {
// The header names the host that wrote the cache (host_tag: boot id, pid namespace, host name), and
// a cache is trusted only where it was written. Entries vouch for a stat as this host's kernel saw
// it, with times this host's clock bounds (racy entries, put_unseen): on a filesystem that several
// hosts mount, another host's entries could match a stat by chance of equal device numbers, and its
// clock bounds mean nothing here. Another host, or this one after a reboot, starts empty.
const std::string &header() {
    static const std::string h = "jvs-stat-cache 1 h" + host_tag();
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

StatCache StatCache::load(const std::string &path) {
    StatCache c;
    auto st = lstat_path(path);
    auto raw = read_file_if_exists(path);
    if (!st || !raw) return c;
    c.written_ns_ = mtime_ns(*st);
    auto recs = decode_records(header(), *raw);
    if (!recs) return c;
    for (auto &r : *recs) {
        if (r.size() != 8) continue;
        try {
            Entry e;
            e.key = {std::stoull(r[1]), std::stoull(r[2]), std::stoull(r[3]), std::stoll(r[4]), std::stoll(r[5]),
                     static_cast<uint32_t>(std::stoul(r[6]))};
            e.hash = r[7];
            c.entries_.emplace(std::move(r[0]), std::move(e));
        } catch (...) {
            // A damaged entry is simply not trusted.
        }
    }
    return c;
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
        return same && untouched && e.key.ctime_ns <= written_ns_ ? std::optional<std::string>(e.hash) : std::nullopt;
    }
    if (!(e.key == StatKey::of(st))) return std::nullopt;
    // Racily clean: changed within the same timestamp tick as (or after) the cache was written.
    if (e.key.mtime_ns >= written_ns_ || e.key.ctime_ns >= written_ns_) return std::nullopt;
    return e.hash;
}

void StatCache::put(const std::string &rel, const struct stat &st, const std::string &hash) {
    std::lock_guard<std::mutex> g(*mu_);
    entries_[rel] = Entry{StatKey::of(st), hash};
}

void StatCache::put_unseen(const std::string &rel, uint64_t size, int64_t mtime, uint32_t mode,
                           const std::string &hash, int64_t unchanged_before_ns) {
    std::lock_guard<std::mutex> g(*mu_);
    entries_[rel] = Entry{StatKey{0, 0, size, mtime, unchanged_before_ns, mode}, hash};
}

void StatCache::erase_missing(const std::unordered_map<std::string, bool> &keep) {
    std::lock_guard<std::mutex> g(*mu_);
    for (auto it = entries_.begin(); it != entries_.end();)
        it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
}

void StatCache::save(const std::string &path) const {
    std::vector<Record> recs;
    {
        std::lock_guard<std::mutex> g(*mu_);
        recs.reserve(entries_.size());
        for (const auto &[rel, e] : entries_)
            recs.push_back({rel, std::to_string(e.key.dev), std::to_string(e.key.ino), std::to_string(e.key.size),
                            std::to_string(e.key.mtime_ns), std::to_string(e.key.ctime_ns),
                            std::to_string(e.key.mode), e.hash});
    }
    atomic_write(path, encode_records(header(), recs), 0644);
}

}  // namespace jvs
