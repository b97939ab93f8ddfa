#include "util/records.hpp"

#include "util/sha256.hpp"

namespace jvs {

namespace {
constexpr std::string_view kEnd = "END";
constexpr size_t kHexLen = 64;
}  // namespace

RecordWriter::RecordWriter(std::string_view header, size_t reserve) : out_(header) {
    out_.reserve(reserve + header.size() + 80);
    out_ += '\n';
}

std::string RecordWriter::finish() {
    // The trailer marks a complete write (a torn one has none) and checks every byte before it.
    const std::string sum = sha256_hex(out_);
    out_ += kEnd;
    out_ += ' ';
    out_ += sum;
    out_ += '\n';
    return std::move(out_);
}

std::string encode_records(std::string_view header, const std::vector<Record> &records) {
    RecordWriter w(header);
    for (const auto &r : records) {
        for (const auto &f : r) w.field(f);
        w.end_record();
    }
    return w.finish();
}

size_t count_records(std::string_view data) {
    size_t n = 0;
    for (size_t i = data.find(std::string_view("\0\0", 2)); i != std::string_view::npos;
         i = data.find(std::string_view("\0\0", 2), i + 2))
        n++;  // fields are never empty: "\0\0" ends a record and appears nowhere else
    return n;
}

bool for_each_record(std::string_view header, std::string_view data, bool require_checksum,
                     const std::function<bool(const std::vector<std::string_view> &)> &fn) {
    if (data.size() < header.size() + 5 || data.substr(0, header.size()) != header || data[header.size()] != '\n')
        return false;
    size_t body_end;
    const size_t summed = kEnd.size() + 1 + kHexLen + 1;  // "END <hex>\n"
    if (data.size() >= header.size() + 1 + summed && data.substr(data.size() - summed, kEnd.size() + 1) == "END ") {
        body_end = data.size() - summed;
        if (sha256_hex(data.substr(0, body_end)) != data.substr(body_end + kEnd.size() + 1, kHexLen)) return false;
    } else if (!require_checksum && data.substr(data.size() - 4) == "END\n") {
        body_end = data.size() - 4;  // written before the trailer carried a checksum
    } else {
        return false;
    }
    std::string_view body = data.substr(header.size() + 1, body_end - header.size() - 1);
    std::vector<std::string_view> cur;
    size_t i = 0;
    while (i < body.size()) {
        size_t j = body.find('\0', i);
        if (j == std::string_view::npos) return false;
        if (j == i) {  // empty field = end of record
            if (!fn(cur)) return false;
            cur.clear();
        } else {
            cur.push_back(body.substr(i, j - i));
        }
        i = j + 1;
    }
    return cur.empty();
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
