// The pieces behind sparse files and memory at scale: the hole walk (copy and hash without reading
// holes), the streaming record writer/reader (byte-identical to encode/decode_records), and HexDigest.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

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
