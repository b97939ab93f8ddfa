// Per-worktree stat cache: (dev, ino, size, mtime, ctime, mode) -> content sha256, so a snapshot of a
// mostly unchanged workspace reads only what changed. Racy entries are handled as git's index does:
// an entry whose mtime or ctime is not older than the cache file itself is not trusted. A cache file
// written on another host (or before a reboot) loads as empty.
#pragma once
#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/sha256.hpp"

namespace jvs {

struct StatKey {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    uint32_t mode = 0;
    static StatKey of(const struct stat &st);
    bool operator==(const StatKey &o) const {
        return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns &&
               mode == o.mode;
    }
};

int64_t mtime_ns(const struct stat &st);
int64_t ctime_ns(const struct stat &st);
// The clock that stamps file times (CLOCK_REALTIME_COARSE; a write stamps at least this): a file
// whose ctime is older than a reading of it cannot change afterwards without its ctime moving.
int64_t stamp_clock_ns();

class StatCache {
   public:
    // A missing, stale-format, torn or tampered file (checksum, unsafe path, malformed entry) loads as
    // empty: the cache is only an accelerator. `problem` (if given) says why an existing file was dropped.
    static StatCache load(const std::string &path, std::string *problem = nullptr);
    // lookup, put and put_unseen may run on many threads at once; the other calls run alone.
    std::optional<std::string> lookup(const std::string &rel, const struct stat &st) const;
    void put(const std::string &rel, const struct stat &st, const std::string &hash);
    // A file jvs just created by a metadata clone, known by content but not yet by inode: trusted
    // for a stat with this size, mtime and mode whose ctime and mtime are older than
    // `unchanged_before_ns` (taken after the clone finished, before anyone else could write). Stored
    // with dev = ino = 0, which no real file has; the next snapshot replaces it with a full entry.
    void put_unseen(const std::string &rel, uint64_t size, int64_t mtime_ns, uint32_t mode, const std::string &hash,
                    int64_t unchanged_before_ns);
    void erase_missing(const std::unordered_map<std::string, bool> &keep);
    void save(const std::string &path) const;  // atomic replace, streamed in path order
    size_t size() const;
    // Every entry, sorted by path (doctor checks them against the files they describe).
    struct Item {
        std::string rel;
        StatKey key;
        std::string hash;
    };
    std::vector<Item> items() const;

    StatCache();
    ~StatCache();
    StatCache(StatCache &&) noexcept;
    StatCache &operator=(StatCache &&) noexcept;

   private:
    // A million-file worktree's cache is loaded whole by every snapshot: what it loads is a table
    // sorted by path, read without a lock by the workers (binary search); what they put goes to a
    // small side table under a lock (lib/repo/stat_cache.cpp).
    struct Row;
    struct Table;
    struct Side;
    template <typename Fn>
    void for_each_merged(Fn &&fn) const;
    std::unique_ptr<Table> loaded_;
    std::unique_ptr<Side> side_;
    int64_t written_ns_ = 0;  // the cache file's mtime when loaded: the racy-clean threshold
};

}  // namespace jvs
