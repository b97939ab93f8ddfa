// The pieces behind sparse files and memory at scale: the hole walk (copy and hash without reading
// holes), the streaming record writer/reader (byte-identical to encode/decode_records, cut at any
// chunk boundary, to and from files), and HexDigest.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/scan.hpp"
#include "repo/manifest.hpp"
#include "util/beneath.hpp"
#include "util/fs.hpp"
#include "util/holes.hpp"
#include "util/records.hpp"
#include "util/sha256.hpp"

using namespace jvs;

namespace {
std::string temp_file_path() {
    char tmpl[] = "/tmp/jvs-unit-holes-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    return tmpl;
}
}  // namespace

TEST_CASE("a sparse file is copied and hashed without its holes") {
    const std::string src = temp_file_path(), dst = temp_file_path();
    const uint64_t size = 64ull << 20;  // 64 MiB apparent, 8 KiB of data
    {
        UniqueFd f(::open(src.c_str(), O_WRONLY | O_TRUNC));
        REQUIRE(::pwrite(f.get(), "head", 4, 0) == 4);
        std::string tail(4096, 't');
        REQUIRE(::pwrite(f.get(), tail.data(), tail.size(), static_cast<off_t>(size / 2)) == 4096);
        REQUIRE(::ftruncate(f.get(), static_cast<off_t>(size)) == 0);
    }
    struct stat st {};
    REQUIRE(::stat(src.c_str(), &st) == 0);
    if (!may_have_holes(st)) {
        MESSAGE("the temp dir's filesystem stores no holes: skipped");
        return;
    }
    // The expected hash, by reading everything (holes read as zeros).
    std::string whole;
    REQUIRE(read_file_if_exists(src));
    whole = *read_file_if_exists(src);
    REQUIRE(whole.size() == size);
    const std::string expected = sha256_hex(whole);

    UniqueFd in(::open(src.c_str(), O_RDONLY));
    CHECK(sha256_fd(in.get(), src) == expected);
    for (bool kernel : {false, true}) {
        UniqueFd out(::open(dst.c_str(), O_RDWR | O_TRUNC));
        Sha256 h;
        CHECK(copy_data(in.get(), out.get(), dst, kernel ? nullptr : &h, kernel, &st) == size);
        if (!kernel) CHECK(h.hex() == expected);
        struct stat ost {};
        REQUIRE(::fstat(out.get(), &ost) == 0);
        CHECK(ost.st_size == static_cast<off_t>(size));
        CHECK(static_cast<uint64_t>(ost.st_blocks) * 512 <= (1u << 20));
        CHECK_FALSE(holes_filled(st, ost));
        CHECK(sha256_fd(out.get(), dst) == expected);
    }
    ::unlink(src.c_str());
    ::unlink(dst.c_str());
}

TEST_CASE("RecordWriter writes what encode_records writes; for_each_record reads it back") {
    std::vector<Record> recs = {{"a/b", "1", "-5"}, {std::string("x\x01y"), "18446744073709551615"}};
    RecordWriter w("hdr 1");
    w.field("a/b").number(1).number(int64_t{-5});
    w.end_record();
    w.field(std::string("x\x01y")).number(uint64_t{18446744073709551615ull});
    w.end_record();
    const std::string bytes = w.finish();
    CHECK(bytes == encode_records("hdr 1", recs));
    CHECK(count_records(bytes) == 2);
    size_t n = 0;
    CHECK(for_each_record("hdr 1", bytes, true, [&](const std::vector<std::string_view> &r) {
        CHECK(r.size() == recs[n].size());
        n++;
        return true;
    }));
    CHECK(n == 2);
    std::string torn = bytes.substr(0, bytes.size() - 3);
    CHECK_FALSE(for_each_record("hdr 1", torn, true, [](const auto &) { return true; }));
    int64_t v = 0;
    CHECK(parse_number("-5", v));
    CHECK(v == -5);
    CHECK_FALSE(parse_number("5x", v));
    CHECK_FALSE(parse_number("", v));
}

TEST_CASE("HexDigest holds a sha256 in 32 bytes and spells it back") {
    const std::string h = sha256_hex("abc");
    HexDigest d = h;
    CHECK(sizeof(HexDigest) <= 33);
    CHECK(d.valid());
    CHECK(d.str() == h);
    CHECK(d == h);
    CHECK(HexDigest().empty());
    HexDigest bad = std::string(64, 'G');
    CHECK_FALSE(bad.valid());
    CHECK(bad.str().empty());
    CHECK_FALSE(bad == HexDigest());
    CHECK_FALSE(HexDigest(h.substr(0, 63)).valid());
    CHECK_FALSE(HexDigest(std::string(64, 'A')).valid());  // uppercase is not what jvs writes
}

namespace {
// Records of every shape a stream can cut: short, long (longer than the chunks below), binary.
std::vector<Record> sample_records() {
    std::vector<Record> recs;
    for (int i = 0; i < 200; i++)
        recs.push_back({"dir/" + std::to_string(i), std::to_string(i * 7919), std::string(i % 13 + 1, 'x')});
    recs.push_back({std::string(5000, 'L'), "1"});
    recs.push_back({std::string("a\x01\xff", 3)});
    return recs;
}

std::vector<Record> read_back(const std::string &path, bool require_checksum, size_t chunk, bool *ok) {
    std::vector<Record> out;
    auto r = for_each_record_in_file(path, "hdr 1", require_checksum, [&](const std::vector<std::string_view> &f) {
        out.emplace_back(f.begin(), f.end());
        return true;
    }, chunk);
    REQUIRE(r.has_value());
    *ok = *r;
    return out;
}
}  // namespace

TEST_CASE("a streamed RecordWriter sends encode_records' bytes, cut anywhere, to its sink and file") {
    const std::vector<Record> recs = sample_records();
    const std::string want = encode_records("hdr 1", recs);
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{4096}, kIoBufferSize}) {
        std::string got;
        size_t pieces = 0;
        bool cut_inside_record = false;
        RecordWriter w("hdr 1", [&](std::string_view s) {
            got += s;
            pieces++;
            // A piece ending in a field's NUL not followed by the record's: the cut fell inside a record.
            cut_inside_record = cut_inside_record || (got.back() == '\0' && want[got.size()] != '\0');
        }, chunk);
        for (const auto &r : recs) {
            for (const auto &f : r) w.field(f);
            w.end_record();
        }
        CHECK(w.finish().empty());
        CHECK(got == want);
        if (chunk < want.size()) {
            CHECK(pieces > 1);
            CHECK(cut_inside_record);
        }
    }
    const std::string path = temp_file_path();
    write_record_file(path, "hdr 1", 0640, [&](RecordWriter &w) {
        for (const auto &r : recs) {
            for (const auto &f : r) w.field(f);
            w.end_record();
        }
    }, 100);
    CHECK(read_file(path) == want);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    ::unlink(path.c_str());
}

TEST_CASE("for_each_record_in_file reads across chunk boundaries and rejects what decode_records rejects") {
    const std::vector<Record> recs = sample_records();
    const std::string bytes = encode_records("hdr 1", recs);
    const std::string path = temp_file_path();
    bool ok = false;
    auto put = [&](const std::string &data) { atomic_write(path, data, 0600); };
    put(bytes);
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{100}, size_t{4999}, kIoBufferSize}) {
        CAPTURE(chunk);
        CHECK(read_back(path, true, chunk, &ok) == recs);
        CHECK(ok);
    }
    // fn stops: false, and nothing after the stop is read.
    size_t seen = 0;
    CHECK(*for_each_record_in_file(path, "hdr 1", true, [&](const auto &) { return ++seen < 3; }, 5) == false);
    CHECK(seen == 3);
    // Every rejection decode_records makes (header, torn, edited, unterminated), at any chunk size.
    std::string edited = bytes;
    edited[bytes.size() / 2] ^= 1;
    std::string legacy = bytes.substr(0, bytes.size() - 69) + "END\n";
    std::string unterminated = legacy;
    unterminated.insert(unterminated.size() - 4, "tail");
    const std::vector<std::string> bad = {bytes.substr(0, bytes.size() - 3), bytes.substr(0, bytes.size() / 2), edited,
                                          "hdr 2" + bytes.substr(5), "hdr 1\n", unterminated};
    for (const std::string &b : bad) {
        put(b);
        for (size_t chunk : {size_t{2}, size_t{64}, kIoBufferSize}) {
            read_back(path, false, chunk, &ok);
            CHECK_FALSE(ok);
            CHECK(ok == decode_records("hdr 1", b).has_value());
        }
    }
    // A file from before the checksum: accepted unless the checksum is required.
    put(legacy);
    CHECK(read_back(path, false, 10, &ok) == recs);
    CHECK(ok);
    read_back(path, true, 10, &ok);
    CHECK_FALSE(ok);
    ::unlink(path.c_str());
    CHECK_FALSE(for_each_record_in_file(path, "hdr 1", true, [](const auto &) { return true; }).has_value());
}

TEST_CASE("the per-entry tables of a large tree stay compact") {
    // A million-file snapshot holds a scan and a manifest entry per file: their sizes are the
    // memory budget of issue 9 (docs/PERFORMANCE.md), so growing them is a decision, not an accident.
    CHECK(sizeof(jvs::ScanStat) == 64);
    CHECK(sizeof(jvs::ScanEntry) <= 112);
    CHECK(sizeof(jvs::ManifestEntry) <= 88);
}

TEST_CASE("a scanned stat converts back to the struct stat it came from") {
    struct stat st {};
    st.st_dev = 7, st.st_ino = 1234567890123ULL, st.st_size = 1LL << 40, st.st_mode = S_IFREG | 04755;
    st.st_nlink = 3, st.st_uid = 1000, st.st_gid = 100;
    st.st_mtim = {1700000000, 123456789}, st.st_ctim = {1700000001, 5}, st.st_atim = {-2, 999999999};
    struct stat back = jvs::ScanStat(st);
    CHECK(back.st_dev == st.st_dev);
    CHECK(back.st_ino == st.st_ino);
    CHECK(back.st_size == st.st_size);
    CHECK(back.st_mode == st.st_mode);
    CHECK(back.st_nlink == st.st_nlink);
    CHECK(back.st_uid == st.st_uid);
    CHECK(back.st_gid == st.st_gid);
    CHECK(back.st_mtim.tv_sec == st.st_mtim.tv_sec);
    CHECK(back.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
    CHECK(back.st_ctim.tv_nsec == st.st_ctim.tv_nsec);
    CHECK(back.st_atim.tv_sec == -2);  // before 1970: the nanoseconds stay in [0, 1e9)
    CHECK(back.st_atim.tv_nsec == 999999999);
}

TEST_CASE("path order compares component by component") {
    // The reference: split into components, compare the component lists bytewise.
    auto components = [](const std::string &p) {
        std::vector<std::string> c;
        size_t i = 0;
        for (size_t j; (j = p.find('/', i)) != std::string::npos; i = j + 1) c.push_back(p.substr(i, j - i));
        c.push_back(p.substr(i));
        return c;
    };
    const std::vector<std::string> paths = {"a", "a/b", "a.b", "a-", "a0", "a/b/c", "a/b.c", "a/bc", "ab",
                                            "a\xc3\xa9", "a\x01", "b", "a/a", "a.b/c", "aa/b", "a/\xff"};
    for (const auto &x : paths)
        for (const auto &y : paths) {
            CAPTURE(x);
            CAPTURE(y);
            auto cx = components(x), cy = components(y);
            CHECK(jvs::path_less(x, y) == std::lexicographical_compare(cx.begin(), cx.end(), cy.begin(), cy.end(), [](const std::string &p, const std::string &q) { return std::string_view(p) < std::string_view(q); }));
        }
}
