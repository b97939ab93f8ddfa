#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <atomic>
#include <thread>

#include "engine/engine.hpp"
#include "engine/scan.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/records.hpp"
#include "util/sha256.hpp"

using namespace jvs;

namespace {
std::string tempdir() {
    char tmpl[] = "/tmp/jvs-unit-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    return tmpl;
}
void write(const std::string &p, const std::string &data) { std::ofstream(p, std::ios::binary) << data; }
}  // namespace

TEST_CASE("records round-trip any path byte and detect torn files") {
    std::vector<Record> recs = {{"a\nb\tc", "1"}, {"\xff\xfe", "x"}};
    std::string enc = encode_records("hdr 1", recs);
    auto dec = decode_records("hdr 1", enc);
    REQUIRE(dec);
    CHECK(*dec == recs);
    CHECK(!decode_records("hdr 2", enc));
    CHECK(!decode_records("hdr 1", enc.substr(0, enc.size() - 3)));
    // The trailer's checksum covers every byte before it: one changed byte drops the file.
    std::string edited = enc;
    edited[edited.find("\xff")] = 'x';
    CHECK(!decode_records("hdr 1", edited));
    // Files written before the checksum existed end in a bare "END\n": accepted unless required.
    std::string legacy = enc.substr(0, enc.rfind("END ")) + "END\n";
    CHECK(decode_records("hdr 1", legacy) == dec);
    CHECK(!decode_records("hdr 1", legacy, true));
    CHECK(decode_records("hdr 1", enc, true) == dec);
}

TEST_CASE("scan: pre-order, bytewise sorted, symlinks not followed, root .READY skipped") {
    std::string d = tempdir();
    mkdirs(d + "/a", 0755);
    write(d + "/a.b", "x");
    write(d + "/a/b", "y");
    write(d + "/.READY", "{}");
    write(d + "/a/.READY", "kept");
    REQUIRE(::symlink("nowhere", (d + "/dangling").c_str()) == 0);
    auto entries = scan_tree(d, {}, nullptr);
    std::vector<std::string> rels;
    for (const auto &e : entries) rels.push_back(std::string(1, e.type) + ":" + e.rel);
    CHECK(rels == std::vector<std::string>{"d:a", "f:a/.READY", "f:a/b", "f:a.b", "l:dangling"});
    CHECK(entries.back().link_target.str() == "nowhere");
    remove_tree(d);
}

TEST_CASE("scan: the parallel listing of a deep tree comes out in pre-order") {
    std::string d = tempdir();
    for (const char *dir : {"b", "b/x", "b/x/deep", "a", "a/z", "c"}) mkdirs(d + "/" + dir, 0755);
    for (const char *f : {"b/x/deep/f", "b/x/g", "b/h", "a/z/i", "a/j", "c/k", "top"}) write(d + "/" + f, "x");
    std::vector<std::string> rels;
    for (const auto &e : scan_tree(d, {}, nullptr)) rels.push_back(e.rel);
    CHECK(rels == std::vector<std::string>{"a", "a/j", "a/z", "a/z/i", "b", "b/h", "b/x", "b/x/deep", "b/x/deep/f",
                                           "b/x/g", "c", "c/k", "top"});
    remove_tree(d);
}

TEST_CASE("scan: a FIFO is an error, not a hang") {
    std::string d = tempdir();
    REQUIRE(::mkfifo((d + "/pipe").c_str(), 0644) == 0);
    try {
        scan_tree(d, {}, nullptr);
        FAIL("no error");
    } catch (const Error &e) {
        CHECK(e.code == "E_SPECIAL_FILE");
        CHECK(e.details["paths"][0] == "pipe");
    }
    remove_tree(d);
}

TEST_CASE("scan: partial paths include ancestors and fail on missing paths") {
    std::string d = tempdir();
    mkdirs(d + "/x/y", 0755);
    write(d + "/x/y/f", "1");
    write(d + "/other", "2");
    auto entries = scan_tree(d, {"x/y/f"}, nullptr);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].rel == "x");
    CHECK(entries[2].rel == "x/y/f");
    CHECK_THROWS_AS(scan_tree(d, {"missing"}, nullptr), Error);
    remove_tree(d);
}

TEST_CASE("copy_file keeps exact mode and mtime and hashes what it wrote") {
    std::string d = tempdir();
    write(d + "/src", "hello\n");
    ::chmod((d + "/src").c_str(), 0777);
    struct timespec t[2] = {{1000, 5}, {2000, 123456789}};
    ::utimensat(AT_FDCWD, (d + "/src").c_str(), t, 0);
    ::umask(022);
    Dir root = Dir::open_root(d);
    std::string h;
    CopyOutcome o = copy_file(root, "src", root.entry("dst"), &h);
    CHECK(o.bytes == 6);
    CHECK(o.reads == 1);
    CHECK(!o.changed);
    CHECK(h == sha256_hex("hello\n"));
    struct stat out {};
    ::lstat((d + "/dst").c_str(), &out);
    CHECK((out.st_mode & 07777) == 0777);  // no umask loss
    CHECK(out.st_mtim.tv_sec == 2000);
    CHECK(out.st_mtim.tv_nsec == 123456789);
    CHECK(copy_file(root, "src", root.entry("dst2"), nullptr).bytes == 6);
    CHECK(read_file(d + "/dst2") == "hello\n");
    CHECK(try_hardlink(root.entry("dst"), root.entry("linked")));
    remove_tree(d);
}

TEST_CASE("copy_file reads a file that changes while it is read again, then stores it as read and says so") {
    std::string d = tempdir();
    write(d + "/big", std::string(16 << 20, 'a'));
    Dir root = Dir::open_root(d);
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        int fd = ::open((d + "/big").c_str(), O_WRONLY);
        for (uint64_t i = 0; !stop; i++) {
            char c = static_cast<char>('b' + i % 20);
            ::pwrite(fd, &c, 1, static_cast<off_t>((i * 4099) % (16 << 20)));
        }
        ::close(fd);
    });
    std::string h;
    CopyOutcome o = copy_file(root, "big", root.entry("copy"), &h, CopyMethod::Bytes, kReadAttempts);
    stop = true;
    writer.join();
    CHECK(o.changed);
    CHECK(o.reads == kReadAttempts);
    CHECK(h == sha256_file(d + "/copy"));  // the hash is of what was stored
    // A quiet file is taken whole at the first read.
    CopyOutcome q = copy_file(root, "big", root.entry("quiet"), &h, CopyMethod::Bytes, kReadAttempts);
    CHECK(!q.changed);
    CHECK(q.reads == 1);
    CHECK(StatKey::of(q.stored) == StatKey::of(*lstat_path(d + "/big")));
    remove_tree(d);
}

TEST_CASE("a user's top-level .READY: stored under a reserved name, one-to-one") {
    for (const char *w : {".READY", ".READY.jvs", ".READY.jvs.jvs", ".READY/x/y", ".READY.jvs/x"}) {
        CAPTURE(w);
        std::string s = stored_rel(w);
        CHECK(s != w);
        CHECK(worktree_rel(s) == std::optional<std::string>(w));
        CHECK(renamed_in_snapshots(w));
    }
    CHECK(stored_rel(".READY") == ".READY.jvs");
    CHECK(stored_rel(".READY.jvs/x") == ".READY.jvs.jvs/x");
    CHECK(!worktree_rel(".READY"));  // the marker
    for (const char *w : {"a/.READY", ".READYx", ".READY.jv", ".READY.jvsx", "x.READY", ".READY.jvs.x", "a"}) {
        CAPTURE(w);
        CHECK(stored_rel(w) == w);
        CHECK(worktree_rel(w) == std::optional<std::string>(w));
        CHECK(!renamed_in_snapshots(w));
    }
}

TEST_CASE("scan: a worktree's own .READY is data, the Go tool's leftover marker is not") {
    std::string d = tempdir();
    write(d + "/.READY", "my notes");
    std::vector<std::string> rels;
    for (const auto &e : scan_tree(d, {}, nullptr, TopReady::UserData)) rels.push_back(e.rel);
    CHECK(rels == std::vector<std::string>{".READY"});
    CHECK(scan_tree(d, {}, nullptr, TopReady::Marker).empty());
    write(d + "/.READY", R"({"snapshot_id":"x","payload_root_hash":"y"})");
    CHECK(scan_tree(d, {}, nullptr, TopReady::UserData).empty());
    remove_tree(d);
}

// Cache entries hold sha256 hex digests; the loader drops a cache holding anything else.
const std::string kHash1(64, '1'), kHash2(64, '2'), kSeeded(64, '5');

TEST_CASE("stat cache: trusted only when the key matches and the entry is not racily clean") {
    std::string d = tempdir();
    write(d + "/f", "v1");
    struct stat st {};
    ::lstat((d + "/f").c_str(), &st);
    StatCache c;
    c.put("f", st, kHash1);
    // Written in the same instant as the file's own change: racily clean, must not be trusted...
    // unless the cache file is provably younger. Wait a tick so the cache file is strictly newer.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    c.save(d + "/cache");
    StatCache loaded = StatCache::load(d + "/cache");
    CHECK(loaded.lookup("f", st) == std::optional<std::string>(kHash1));
    // Any change of size/mtime/ctime/inode invalidates the entry.
    write(d + "/f", "v22");
    struct stat st2 {};
    ::lstat((d + "/f").c_str(), &st2);
    CHECK(!loaded.lookup("f", st2));
    // An entry whose mtime or ctime is not older than the cache file is racily clean: the file may
    // have changed again within the same timestamp tick after it was hashed.
    struct stat future = st2;
    future.st_ctim.tv_sec += 3600;
    StatCache racy;
    racy.put("f", future, kHash2);
    racy.save(d + "/cache2");
    CHECK(!StatCache::load(d + "/cache2").lookup("f", future));
    // put_unseen (a fresh metadata clone): trusted by size, mtime and mode while the ctime predates
    // the bound; a later change (ctime at or past the bound) or another size is not.
    StatCache seeded;
    seeded.put_unseen("f", static_cast<uint64_t>(st2.st_size), mtime_ns(st2), static_cast<uint32_t>(st2.st_mode),
                      kSeeded, ctime_ns(st2) + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seeded.save(d + "/cache4");
    StatCache s4 = StatCache::load(d + "/cache4");
    CHECK(s4.lookup("f", st2) == std::optional<std::string>(kSeeded));
    struct stat touched = st2;
    touched.st_ctim.tv_nsec += 1;
    if (touched.st_ctim.tv_nsec >= 1000000000) touched.st_ctim.tv_sec++, touched.st_ctim.tv_nsec -= 1000000000;
    CHECK(!s4.lookup("f", touched));
    // A cache edited by hand (checksum no longer matching), or naming an unsafe path, is dropped whole.
    std::string raw = read_file(d + "/cache");
    std::string problem;
    std::string tampered = raw;
    tampered[tampered.find(kHash1)] = '0';
    write(d + "/cache5", tampered);
    CHECK(StatCache::load(d + "/cache5", &problem).size() == 0);
    CHECK(problem.find("checksum") != std::string::npos);
    StatCache unsafe;
    unsafe.put("../f", st, kHash1);
    unsafe.save(d + "/cache6");
    problem.clear();
    CHECK(StatCache::load(d + "/cache6", &problem).size() == 0);
    CHECK(problem.find("unsafe") != std::string::npos);
    struct stat grown = st2;
    grown.st_size += 1;
    CHECK(!s4.lookup("f", grown));
    // A torn cache file loads as empty.
    write(d + "/cache3", "jvs-stat-cache 1\nf");
    CHECK(StatCache::load(d + "/cache3").size() == 0);
    // So does one another host wrote (its header names that host): its entries and its clock's
    // bounds say nothing about this host's view, even where device and inode numbers coincide.
    std::string mine = read_file(d + "/cache4");
    REQUIRE(mine.rfind("jvs-stat-cache 2 h" + host_tag() + "\n", 0) == 0);
    std::string theirs = mine;
    theirs.replace(theirs.find(host_tag()), host_tag().size(), std::string(host_tag().size(), '0'));
    write(d + "/cache5", theirs);
    CHECK(StatCache::load(d + "/cache5").size() == 0);
    CHECK(StatCache::load(d + "/cache4").size() == 1);
    remove_tree(d);
}
