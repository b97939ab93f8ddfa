#include "util/duration.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace jvs {

std::optional<int64_t> parse_duration(std::string_view s) {
    if (s.empty()) return std::nullopt;
    if (s == "0") return 0;
    static const std::vector<std::pair<std::string_view, double>> units = {
        {"ns", 1.0}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
        {"d", 86400e9}, {"w", 7 * 86400e9}};
    double total = 0;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) j++;
        if (j == i) return std::nullopt;
        std::string num(s.substr(i, j - i));
        if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
        double v = std::strtod(num.c_str(), nullptr);
        size_t k = j;
        while (k < s.size() && !std::isdigit(static_cast<unsigned char>(s[k])) && s[k] != '.') k++;
        std::string_view unit = s.substr(j, k - j);
        double mult = 0;
        for (const auto &[u, m] : units)
            if (u == unit) mult = m;
        if (mult == 0) return std::nullopt;
        total += v * mult;
        i = k;
    }
    if (!std::isfinite(total) || total > 9.2e18) return std::nullopt;
    return static_cast<int64_t>(total);
}

}  // namespace jvs
