// Record files: a header line, then records of NUL-terminated fields, each record ending with an
// extra NUL, then a trailer "END <sha256 of everything before it>\n". Binary-safe for any path byte
// except NUL (which no POSIX path contains), trivially fast to parse, and replaced atomically. Used by
// the stat cache and snapshot manifests.
#pragma once
#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jvs {

using Record = std::vector<std::string>;

std::string encode_records(std::string_view header, const std::vector<Record> &records);

// The same bytes, built one field at a time: a manifest or stat cache of a million entries is
// encoded without first copying every field into a Record (which costs several times the output).
class RecordWriter {
   public:
    explicit RecordWriter(std::string_view header, size_t reserve = 0);
    RecordWriter &field(std::string_view f) {
        out_ += f;
        out_ += '\0';
        return *this;
    }
    template <typename Int>
    RecordWriter &number(Int v) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        return field(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
    }
    void end_record() { out_ += '\0'; }
    std::string finish();  // appends the checksummed trailer; the writer is empty afterwards

   private:
    std::string out_;
};
// nullopt if the header differs, the data is truncated/malformed or the checksum does not match
// (callers treat that as "absent"). Without `require_checksum` a bare "END\n" trailer (files written
// before the checksum existed) is accepted too.
std::optional<std::vector<Record>> decode_records(std::string_view header, std::string_view data,
                                                  bool require_checksum = false);
// The same checks, without materialising the records: fn gets each record's fields as views into
// `data` (valid during the call) and returns false to stop. false when the data is not a valid
// record file (as decode_records' nullopt) or fn stopped.
// How many records `data` holds if it is a record file (an upper bound otherwise): sizes a table once.
size_t count_records(std::string_view data);

// A record's number field (decimal, as RecordWriter::number writes it); false unless it is exactly one.
template <typename Int>
bool parse_number(std::string_view f, Int &out) {
    auto r = std::from_chars(f.data(), f.data() + f.size(), out);
    return r.ec == std::errc() && r.ptr == f.data() + f.size();
}
bool for_each_record(std::string_view header, std::string_view data, bool require_checksum,
                     const std::function<bool(const std::vector<std::string_view> &)> &fn);

}  // namespace jvs
