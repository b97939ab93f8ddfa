// util/gzip: the reader of the Go tool's compressed snapshot files. Streams are made here with zlib
// itself (deflate + a header written by hand, as Go's compress/gzip writes it).
#include <doctest/doctest.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include <string>

#include "util/error.hpp"
#include "util/gzip.hpp"

namespace {
std::string go_gzip(const std::string &data) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string body(deflateBound(&z, data.size()) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef *>(body.data());
    z.avail_out = static_cast<uInt>(body.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    body.resize(z.total_out);
    deflateEnd(&z);
    std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
    out += body;
    uLong crc = crc32(0, reinterpret_cast<const Bytef *>(data.data()), static_cast<uInt>(data.size()));
    for (uLong v : {crc, static_cast<uLong>(data.size())})
        for (int i = 0; i < 4; i++) out += static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}

// gunzip_fd over `bytes` (through a temp file); returns (verdict, inflated bytes).
std::pair<std::string, std::string> inflate(const std::string &bytes) {
    FILE *f = tmpfile();
    REQUIRE(f != nullptr);
    REQUIRE(fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
    fflush(f);
    lseek(fileno(f), 0, SEEK_SET);
    std::string out, raw;
    std::string why = jvs::gunzip_fd(
        fileno(f), "t.gz", [&](const char *p, size_t n) { out.append(p, n); },
        [&](const char *p, size_t n) { raw.append(p, n); });
    fclose(f);
    CHECK(raw == bytes);  // `raw` always sees every byte read
    return {why, out};
}
}  // namespace

TEST_CASE("gzip: Go's streams inflate exactly, any size") {
    for (size_t n : {size_t(0), size_t(1), size_t(5000), size_t(3 << 20)}) {
        std::string data;
        for (size_t i = 0; i < n; i++) data += static_cast<char>((i * 2654435761u) >> 13);
        std::string gz = go_gzip(data);
        CHECK(jvs::is_go_gzip_header(gz));
        auto [why, out] = inflate(gz);
        CHECK(why == "");
        CHECK(out == data);
    }
}

TEST_CASE("gzip: damage is named, never inflated silently") {
    std::string gz = go_gzip(std::string(10000, 'x') + "tail");
    CHECK(inflate(gz.substr(0, gz.size() - 3)).first.find("truncated") != std::string::npos);
    CHECK(inflate(gz + "junk").first.find("trailing") != std::string::npos);
    std::string bad_crc = gz;
    bad_crc[bad_crc.size() - 6] ^= 1;
    CHECK(inflate(bad_crc).first.find("CRC") != std::string::npos);
    CHECK(inflate("plain text, not gzip").first.find("not valid gzip") != std::string::npos);
    CHECK(inflate("").first.find("empty") != std::string::npos);
}

TEST_CASE("gzip: the Go header is told from other writers'") {
    std::string gz = go_gzip("x");
    std::string gnu = gz;
    gnu[9] = 3;  // gzip(1) on Unix
    CHECK_FALSE(jvs::is_go_gzip_header(gnu));
    std::string named = gz;
    named[3] = 8;  // FNAME
    CHECK_FALSE(jvs::is_go_gzip_header(named));
    std::string timed = gz;
    timed[4] = 1;  // an mtime
    CHECK_FALSE(jvs::is_go_gzip_header(timed));
    CHECK_FALSE(jvs::is_go_gzip_header(gz.substr(0, 9)));
}
