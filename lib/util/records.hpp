// Record files: a header line, then records of NUL-terminated fields, each record ending with an
// extra NUL, then a trailer "END <sha256 of everything before it>\n". Binary-safe for any path byte
// except NUL (which no POSIX path contains), trivially fast to parse, and replaced atomically. Used by
// the stat cache and snapshot manifests, which stream them to and from disk through one buffer: a
// file of a million entries is never held whole in memory.
#pragma once
#include <sys/types.h>

#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace jvs {

using Record = std::vector<std::string>;

std::string encode_records(std::string_view header, const std::vector<Record> &records);

// The same bytes, built one field at a time: a manifest or stat cache of a million entries is
// encoded without first copying every field into a Record (which costs several times the output).
// In memory (finish() returns the bytes), or streamed: every `chunk` bytes or so (a boundary may fall
// anywhere, inside a record too) go to `sink`, and the checksum is computed as they go.
class RecordWriter {
   public:
    using Sink = std::function<void(std::string_view)>;
    explicit RecordWriter(std::string_view header, size_t reserve = 0);
    RecordWriter(std::string_view header, Sink sink, size_t chunk = kIoBufferSize);
    RecordWriter &field(std::string_view f) {
        out_ += f;
        out_ += '\0';
        if (out_.size() >= flush_at_) flush();
        return *this;
    }
    template <typename Int>
    RecordWriter &number(Int v) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        return field(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
    }
    void end_record() { out_ += '\0'; }
    // Appends the checksummed trailer and returns the bytes (streamed: sends the rest to the sink and
    // returns ""); the writer is empty afterwards.
    std::string finish();

   private:
    void flush();
    std::string out_;
    Sha256 sum_;  // of every byte already sent to the sink
    Sink sink_;
    size_t flush_at_ = SIZE_MAX;
};

// A record file written to `path` without holding it whole: `fill` adds the records to a writer
// streaming into atomic_write's temp file (fsynced and renamed into place once the trailer is in).
void write_record_file(const std::string &path, std::string_view header, mode_t mode,
                       const std::function<void(RecordWriter &)> &fill, size_t chunk = kIoBufferSize);

// nullopt if the header differs, the data is truncated/malformed or the checksum does not match
// (callers treat that as "absent"). Without `require_checksum` a bare "END\n" trailer (files written
// before the checksum existed) is accepted too.
std::optional<std::vector<Record>> decode_records(std::string_view header, std::string_view data,
                                                  bool require_checksum = false);
// How many records `data` holds if it is a record file (an upper bound otherwise): sizes a table once.
size_t count_records(std::string_view data);

// A record's number field (decimal, as RecordWriter::number writes it); false unless it is exactly one.
template <typename Int>
bool parse_number(std::string_view f, Int &out) {
    auto r = std::from_chars(f.data(), f.data() + f.size(), out);
    return r.ec == std::errc() && r.ptr == f.data() + f.size();
}

// The same checks as decode_records, without materialising the records: fn gets each record's fields
// (views valid during the call) and returns false to stop. false when the data is not a valid record
// file (as decode_records' nullopt) or fn stopped. The records are parsed as they stream in, so fn
// sees them before the trailer's checksum is checked: on false, drop whatever fn built.
using RecordFn = std::function<bool(const std::vector<std::string_view> &)>;
bool for_each_record(std::string_view header, std::string_view data, bool require_checksum, const RecordFn &fn);
// The same over the file at `path`, read `chunk` bytes at a time (memory: a chunk and the longest
// record). nullopt when the file does not exist; other errors throw E_IO. A caller that wants a table
// sized once runs it twice: counting, then filling.
std::optional<bool> for_each_record_in_file(const std::string &path, std::string_view header,
                                            bool require_checksum, const RecordFn &fn,
                                            size_t chunk = kIoBufferSize);

}  // namespace jvs
