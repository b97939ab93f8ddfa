#include "util/records.hpp"

namespace jvs {

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
    out += "END\n";  // a torn write is detected by the missing trailer
    return out;
}

std::optional<std::vector<Record>> decode_records(std::string_view header, std::string_view data) {
    if (data.size() < header.size() + 5 || data.substr(0, header.size()) != header || data[header.size()] != '\n')
        return std::nullopt;
    if (data.substr(data.size() - 4) != "END\n") return std::nullopt;
    std::string_view body = data.substr(header.size() + 1, data.size() - header.size() - 5);
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
