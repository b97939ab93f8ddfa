#include "util/records.hpp"

#include "util/sha256.hpp"

namespace jvs {

namespace {
constexpr std::string_view kEnd = "END";
constexpr size_t kHexLen = 64;
}  // namespace

std::string encode_records(std::string_view header, const std::vector<Record> &records) {
    std::string out(header);
    out += '\n';
    for (const auto &r : records) {
        for (const auto &f : r) {
            out += f;
            out += '\0';
        }
        out += '\0';
    }
    // The trailer marks a complete write (a torn one has none) and checks every byte before it.
    const std::string sum = sha256_hex(out);
    out += kEnd;
    out += ' ';
    out += sum;
    out += '\n';
    return out;
}

std::optional<std::vector<Record>> decode_records(std::string_view header, std::string_view data,
                                                  bool require_checksum) {
    if (data.size() < header.size() + 5 || data.substr(0, header.size()) != header || data[header.size()] != '\n')
        return std::nullopt;
    size_t body_end;
    const size_t summed = kEnd.size() + 1 + kHexLen + 1;  // "END <hex>\n"
    if (data.size() >= header.size() + 1 + summed && data.substr(data.size() - summed, kEnd.size() + 1) == "END ") {
        body_end = data.size() - summed;
        if (sha256_hex(data.substr(0, body_end)) != data.substr(body_end + kEnd.size() + 1, kHexLen)) return std::nullopt;
    } else if (!require_checksum && data.substr(data.size() - 4) == "END\n") {
        body_end = data.size() - 4;  // written before the trailer carried a checksum
    } else {
        return std::nullopt;
    }
    std::string_view body = data.substr(header.size() + 1, body_end - header.size() - 1);
    std::vector<Record> out;
    Record cur;
    size_t i = 0;
    while (i < body.size()) {
        size_t j = body.find('\0', i);
        if (j == std::string_view::npos) return std::nullopt;
        if (j == i) {  // empty field = end of record
            out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur.emplace_back(body.substr(i, j - i));
        }
        i = j + 1;
    }
    if (!cur.empty()) return std::nullopt;
    return out;
}

}  // namespace jvs
