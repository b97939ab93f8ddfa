// The stat cache's table: puts over what was loaded, path order on disk, lock-free lookups beside
// concurrent puts, and the whole file dropped when its checksum fails.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "repo/stat_cache.hpp"
#include "util/fs.hpp"
#include "util/records.hpp"

using namespace jvs;

namespace jvs_test {  // defined in test_payload_hash.cpp
using TempDir = std::shared_ptr<const std::string>;
TempDir make_temp_dir();
}  // namespace jvs_test
using jvs_test::make_temp_dir;
using jvs_test::TempDir;

namespace {
std::string hash_of(int i) {
    std::string h = std::to_string(i);
    return std::string(64 - h.size(), 'a') + h;
}
// A stat no real file has, told apart by its inode: lookups need no files on disk.
struct stat stat_of(int i) {
    struct stat st {};
    st.st_dev = 1;
    st.st_ino = static_cast<ino_t>(1000 + i);
    st.st_size = i;
    st.st_mode = S_IFREG | 0644;
    st.st_mtim.tv_sec = st.st_ctim.tv_sec = 1000;  // long before any cache file is written
    return st;
}
std::string rel_of(int i) { return "d" + std::to_string(i % 10) + "/f" + std::to_string(i); }
}  // namespace

TEST_CASE("stat cache: puts override loaded entries, and save writes the merge in path order") {
    const TempDir dir = make_temp_dir();  // removed when the test ends
    const std::string &d = *dir;
    StatCache c;
    for (int i = 0; i < 50; i++) c.put(rel_of(i), stat_of(i), hash_of(i));
    c.save(d + "/cache");
    StatCache loaded = StatCache::load(d + "/cache");
    REQUIRE(loaded.size() == 50);
    CHECK(loaded.lookup(rel_of(7), stat_of(7)) == hash_of(7));
    CHECK_FALSE(loaded.lookup("absent", stat_of(7)));
    // A put for a loaded path wins, in lookups and on disk; a new path joins.
    loaded.put(rel_of(7), stat_of(7), hash_of(1007));
    loaded.put(rel_of(8), stat_of(108), hash_of(108));
    loaded.put("new", stat_of(60), hash_of(60));
    loaded.put("new", stat_of(61), hash_of(61));  // the later put of a path wins
    CHECK(loaded.lookup(rel_of(7), stat_of(7)) == hash_of(1007));
    CHECK_FALSE(loaded.lookup(rel_of(8), stat_of(8)));
    CHECK(loaded.lookup(rel_of(8), stat_of(108)) == hash_of(108));
    CHECK(loaded.size() == 51);
    loaded.save(d + "/cache");
    StatCache again = StatCache::load(d + "/cache");
    std::vector<StatCache::Item> items = again.items();
    REQUIRE(items.size() == 51);
    for (size_t k = 1; k < items.size(); k++) CHECK(items[k - 1].rel < items[k].rel);
    CHECK(again.lookup(rel_of(7), stat_of(7)) == hash_of(1007));
    CHECK(again.lookup("new", stat_of(61)) == hash_of(61));
    // The file lists the entries in that order too (a reader can merge it with a sorted walk).
    std::vector<std::string> on_disk;
    for_each_record(std::string("jvs-stat-cache 2 h") + host_tag(), read_file(d + "/cache"), true,
                    [&](const std::vector<std::string_view> &r) { return on_disk.emplace_back(r[0]), true; });
    REQUIRE(on_disk.size() == items.size());
    for (size_t k = 0; k < items.size(); k++) CHECK(on_disk[k] == items[k].rel);
    // erase_missing keeps only what it is told, loaded or put.
    again.put("put-kept", stat_of(70), hash_of(70));
    again.put("put-dropped", stat_of(71), hash_of(71));
    again.erase_missing({{rel_of(3), true}, {"put-kept", true}});
    CHECK(again.size() == 2);
    CHECK(again.lookup(rel_of(3), stat_of(3)) == hash_of(3));
    CHECK(again.lookup("put-kept", stat_of(70)) == hash_of(70));
    CHECK_FALSE(again.lookup("put-dropped", stat_of(71)));
}

TEST_CASE("stat cache: a file in another order (as older versions wrote) loads sorted, first entry of a path kept") {
    const TempDir dir = make_temp_dir();  // removed when the test ends
    const std::string &d = *dir;
    write_record_file(d + "/cache", std::string("jvs-stat-cache 2 h") + host_tag(), 0644, [&](RecordWriter &w) {
        for (auto [i, h] : std::vector<std::pair<int, int>>{{5, 5}, {3, 103}, {9, 9}, {3, 3}, {1, 1}, {1, 101}}) {
            struct stat st = stat_of(i);
            w.field(rel_of(i)).number(st.st_dev).number(st.st_ino).number(st.st_size).number(1000000000000LL);
            w.number(1000000000000LL).number(st.st_mode).field(hash_of(h));
            w.end_record();
        }
    });
    StatCache c = StatCache::load(d + "/cache");
    CHECK(c.size() == 4);
    CHECK(c.lookup(rel_of(3), stat_of(3)) == hash_of(103));
    CHECK(c.lookup(rel_of(9), stat_of(9)) == hash_of(9));
    CHECK(c.lookup(rel_of(1), stat_of(1)) == hash_of(1));
    // Repeats in a file already in path order are dropped too.
    write_record_file(d + "/sorted", std::string("jvs-stat-cache 2 h") + host_tag(), 0644, [&](RecordWriter &w) {
        for (int h : {1, 101}) {
            w.field("p").number(1).number(1001).number(1).number(1000000000000LL).number(1000000000000LL);
            w.number(S_IFREG | 0644).field(hash_of(h));
            w.end_record();
        }
    });
    StatCache s = StatCache::load(d + "/sorted");
    CHECK(s.size() == 1);
    CHECK(s.items().size() == 1);
    CHECK(s.lookup("p", stat_of(1)) == hash_of(1));
}

TEST_CASE("stat cache: lookups on many threads beside puts see the loaded entries and their own puts") {
    const TempDir dir = make_temp_dir();  // removed when the test ends
    const std::string &d = *dir;
    constexpr int kFiles = 4000, kThreads = 4;
    {
        StatCache c;
        for (int i = 0; i < kFiles; i++) c.put(rel_of(i), stat_of(i), hash_of(i));
        c.save(d + "/cache");
    }
    StatCache c = StatCache::load(d + "/cache");
    std::vector<int> wrong(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kFiles; i++) {
                if (i % kThreads == t) {  // this thread's files changed: hashed again and put
                    c.put(rel_of(i), stat_of(i + kFiles), hash_of(i + kFiles));
                    wrong[t] += c.lookup(rel_of(i), stat_of(i + kFiles)) != hash_of(i + kFiles);
                    wrong[t] += c.lookup(rel_of(i), stat_of(i)).has_value();
                } else {
                    auto h = c.lookup(rel_of(i), stat_of(i));  // unchanged, or changed by another thread
                    wrong[t] += h && *h != hash_of(i);
                }
                c.put("new/" + std::to_string(t) + "/" + std::to_string(i), stat_of(i), hash_of(i));
            }
        });
    for (auto &th : threads) th.join();
    for (int t = 0; t < kThreads; t++) CHECK(wrong[t] == 0);
    CHECK(c.size() == static_cast<size_t>(kFiles * (1 + kThreads)));
    c.save(d + "/cache");
    StatCache after = StatCache::load(d + "/cache");
    CHECK(after.size() == static_cast<size_t>(kFiles * (1 + kThreads)));
    for (int i = 0; i < kFiles; i += 97) CHECK(after.lookup(rel_of(i), stat_of(i + kFiles)) == hash_of(i + kFiles));
}

TEST_CASE("stat cache: a tampered file loads empty, wherever the edit lies in its stream") {
    const TempDir dir = make_temp_dir();  // removed when the test ends
    const std::string &d = *dir;
    StatCache c;
    for (int i = 0; i < 20000; i++) c.put(rel_of(i), stat_of(i), hash_of(i));  // > 1 MiB: several chunks
    c.save(d + "/cache");
    std::string raw = read_file(d + "/cache");
    REQUIRE(raw.size() > 2 * kIoBufferSize);
    CHECK(StatCache::load(d + "/cache").size() == 20000);
    for (size_t at : {raw.size() / 3, raw.size() - 200}) {
        std::string tampered = raw;
        tampered[at] = tampered[at] == '1' ? '2' : '1';
        atomic_write(d + "/cache", tampered, 0644);
        std::string problem;
        CHECK(StatCache::load(d + "/cache", &problem).size() == 0);
        CHECK(problem.find("checksum") != std::string::npos);
    }
}
