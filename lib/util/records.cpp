#include "util/records.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/beneath.hpp"
#include "util/error.hpp"

namespace jvs {

namespace {
constexpr std::string_view kEnd = "END";
constexpr size_t kHexLen = 64;
constexpr size_t kSummed = kEnd.size() + 1 + kHexLen + 1;  // "END <hex>\n"
}  // namespace

RecordWriter::RecordWriter(std::string_view header, size_t reserve) : out_(header) {
    out_.reserve(reserve + header.size() + 80);
    out_ += '\n';
}

RecordWriter::RecordWriter(std::string_view header, Sink sink, size_t chunk)
    : RecordWriter(header, std::min(chunk, kIoBufferSize)) {
    sink_ = std::move(sink);
    flush_at_ = std::max<size_t>(chunk, 1);
}

void RecordWriter::flush() {
    sum_.update(out_);
    sink_(out_);
    out_.clear();
}

std::string RecordWriter::finish() {
    // The trailer marks a complete write (a torn one has none) and checks every byte before it.
    sum_.update(out_);
    const std::string sum = sum_.hex();
    out_ += kEnd;
    out_ += ' ';
    out_ += sum;
    out_ += '\n';
    if (!sink_) return std::move(out_);
    sink_(out_);
    out_.clear();
    return {};
}

std::string encode_records(std::string_view header, const std::vector<Record> &records) {
    RecordWriter w(header);
    for (const auto &r : records) {
        for (const auto &f : r) w.field(f);
        w.end_record();
    }
    return w.finish();
}

void write_record_file(const std::string &path, std::string_view header, mode_t mode,
                       const std::function<void(RecordWriter &)> &fill, size_t chunk) {
    atomic_write(path, mode, [&](int fd, const std::string &display) {
        RecordWriter w(header, [&](std::string_view s) { write_all(fd, s.data(), s.size(), display); }, chunk);
        fill(w);
        w.finish();
    });
}

size_t count_records(std::string_view data) {
    size_t n = 0;
    for (size_t i = data.find(std::string_view("\0\0", 2)); i != std::string_view::npos;
         i = data.find(std::string_view("\0\0", 2), i + 2))
        n++;  // fields are never empty: "\0\0" ends a record and appears nowhere else
    return n;
}

namespace {

// Reads up to n bytes at offset off into dst; fewer only at the end of the data.
using ReadAt = std::function<size_t(uint64_t off, char *dst, size_t n)>;

// The one reader of record files, over `size` bytes that read_at serves a chunk at a time. The
// trailer is located first (it sits at the end), then the body is hashed and parsed in one pass.
bool parse_records(uint64_t size, const ReadAt &read_at, std::string_view header, bool require_checksum,
                   size_t chunk, const RecordFn &fn) {
    auto read_exact = [&](uint64_t off, size_t n) {
        std::string s(n, '\0');
        s.resize(read_at(off, s.data(), n));
        return s;
    };
    if (size < header.size() + 5) return false;
    const std::string head = read_exact(0, header.size() + 1);
    if (std::string_view(head).substr(0, header.size()) != header || head.back() != '\n') return false;
    uint64_t body_end;
    std::string expected;
    const std::string tail = read_exact(size - std::min<uint64_t>(size, kSummed), std::min<uint64_t>(size, kSummed));
    if (size >= header.size() + 1 + kSummed && tail.substr(0, kEnd.size() + 1) == "END ") {
        body_end = size - kSummed;
        expected = tail.substr(kEnd.size() + 1, kHexLen);
    } else if (!require_checksum && tail.size() >= 4 && tail.substr(tail.size() - 4) == "END\n") {
        body_end = size - 4;  // written before the trailer carried a checksum
    } else {
        return false;
    }
    Sha256 sum;
    sum.update(head);
    // buf holds the record being parsed (from rec) and what follows it: a record cut by a chunk
    // boundary is parsed again from its start once the next chunk is in, as its views would move.
    std::string buf;
    std::vector<std::string_view> cur;
    size_t rec = 0, pos = 0;
    uint64_t off = head.size();
    chunk = std::max<size_t>(chunk, 1);
    for (;;) {
        const void *nul = pos < buf.size() ? std::memchr(buf.data() + pos, '\0', buf.size() - pos) : nullptr;
        if (nul) {
            size_t j = static_cast<size_t>(static_cast<const char *>(nul) - buf.data());
            if (j == pos) {  // empty field = end of record
                if (!fn(cur)) return false;
                cur.clear();
                rec = j + 1;
            } else {
                cur.push_back(std::string_view(buf).substr(pos, j - pos));
            }
            pos = j + 1;
            continue;
        }
        if (off == body_end) break;
        buf.erase(0, rec);
        cur.clear();
        rec = pos = 0;
        size_t have = buf.size(), n = static_cast<size_t>(std::min<uint64_t>(chunk, body_end - off));
        buf.resize(have + n);
        if (read_at(off, buf.data() + have, n) != n) return false;  // shrank while being read
        sum.update(buf.data() + have, n);
        off += n;
    }
    if (rec != buf.size()) return false;  // a record or field left unterminated
    return expected.empty() || sum.hex() == expected;
}

}  // namespace

bool for_each_record(std::string_view header, std::string_view data, bool require_checksum, const RecordFn &fn) {
    auto read_at = [&](uint64_t off, char *dst, size_t n) {
        n = static_cast<size_t>(std::min<uint64_t>(n, data.size() - std::min<uint64_t>(off, data.size())));
        std::memcpy(dst, data.data() + off, n);
        return n;
    };
    return parse_records(data.size(), read_at, header, require_checksum, kIoBufferSize, fn);
}

std::optional<bool> for_each_record_in_file(const std::string &path, std::string_view header,
                                            bool require_checksum, const RecordFn &fn, size_t chunk) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        fail_errno(errno, "open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno(errno, "fstat", path);
    auto read_at = [&](uint64_t off, char *dst, size_t n) {
        size_t got = 0;
        while (got < n) {
            ssize_t r = ::pread(fd.get(), dst + got, n - got, static_cast<off_t>(off + got));
            if (r < 0) {
                if (errno == EINTR) continue;
                fail_errno(errno, "read", path);
            }
            if (r == 0) break;
            got += static_cast<size_t>(r);
        }
        return got;
    };
    return parse_records(static_cast<uint64_t>(st.st_size), read_at, header, require_checksum, chunk, fn);
}

std::optional<std::vector<Record>> decode_records(std::string_view header, std::string_view data,
                                                  bool require_checksum) {
    std::vector<Record> out;
    bool ok = for_each_record(header, data, require_checksum, [&](const std::vector<std::string_view> &fields) {
        out.emplace_back(fields.begin(), fields.end());
        return true;
    });
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace jvs
