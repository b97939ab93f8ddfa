#include "util/gzip.hpp"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <vector>

#include "util/error.hpp"

namespace jvs {

bool is_go_gzip_header(std::string_view h) {
    if (h.size() < 10) return false;
    auto b = [&](size_t i) { return static_cast<unsigned char>(h[i]); };
    return b(0) == 0x1f && b(1) == 0x8b && b(2) == 8 && b(3) == 0 && b(4) == 0 && b(5) == 0 && b(6) == 0 &&
           b(7) == 0 && b(9) == 0xff;
}

namespace {
struct Inflater {
    z_stream z{};
    bool live = false;
    Inflater() { live = inflateInit2(&z, 16 + MAX_WBITS) == Z_OK; }  // 16: gzip wrapper only
    ~Inflater() {
        if (live) inflateEnd(&z);
    }
};
}  // namespace

std::string gunzip_fd(int fd, const std::string &display, const ChunkSink &out, const ChunkSink &raw) {
    Inflater inf;
    if (!inf.live) fail("E_IO", "zlib could not start inflating " + display, "out of memory?");
    std::vector<unsigned char> in(1 << 16), buf(1 << 17);
    bool ended = false;
    bool any = false;
    // One inflate step over what is buffered; "" to go on, else the verdict.
    auto step = [&]() -> std::string {
        inf.z.next_out = buf.data();
        inf.z.avail_out = static_cast<uInt>(buf.size());
        int rc = inflate(&inf.z, Z_NO_FLUSH);
        size_t got = buf.size() - inf.z.avail_out;
        if (got && out) out(reinterpret_cast<const char *>(buf.data()), got);
        if (rc == Z_STREAM_END) ended = true;
        else if (rc == Z_DATA_ERROR) {
            std::string why = inf.z.msg ? inf.z.msg : "corrupt data";
            bool trailer = why == "incorrect data check" || why == "incorrect length check";  // CRC-32, ISIZE
            return trailer ? "CRC mismatch (" + why + ")" : "not valid gzip data (" + why + ")";
        } else if (rc == Z_BUF_ERROR && got == 0) {
            return "stall";  // needs more input
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return "not valid gzip data (zlib error " + std::to_string(rc) + ")";
        }
        return "";
    };
    bool trailing = false;
    for (;;) {
        ssize_t n = ::read(fd, in.data(), in.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", display);
        }
        if (n == 0) break;
        any = true;
        if (raw) raw(reinterpret_cast<const char *>(in.data()), static_cast<size_t>(n));
        if (ended) {
            trailing = true;  // read on, so `raw` still sees every byte
            continue;
        }
        inf.z.next_in = in.data();
        inf.z.avail_in = static_cast<uInt>(n);
        // Until this input is used up and zlib holds no pending output (a full buffer may hide some).
        while (!ended && (inf.z.avail_in > 0 || inf.z.avail_out == 0)) {
            std::string why = step();
            if (why == "stall") break;
            if (!why.empty()) return why;
        }
        if (ended && inf.z.avail_in > 0) trailing = true;
    }
    while (any && !ended) {  // drain what zlib still holds
        std::string why = step();
        if (why == "stall") break;
        if (!why.empty()) return why;
    }
    if (trailing) return "trailing bytes after the gzip stream";
    if (!any) return "empty file, not gzip data";
    if (!ended) return "truncated gzip stream";
    return "";
}

}  // namespace jvs
