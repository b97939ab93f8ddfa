// Go encoding/json, byte for byte: the writer mirrors encode.go (appendString, floatEncoder, Indent)
// and the reader mirrors decode.go's observable behaviour (scanner grammar, unquote, field folding).
#include "format/gojson.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "util/error.hpp"

namespace jvs::gojson {

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD as UTF-8
constexpr int kMaxDepth = 10000;                            // Go's scanner nesting limit

// Go's utf8.DecodeRune: the rune and its byte length, or (U+FFFD, 1) for any invalid, overlong,
// surrogate or truncated sequence -- so every bad byte is replaced on its own.
std::pair<char32_t, size_t> decode_rune(std::string_view s, size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return {b0, 1};
    size_t n = 0;
    char32_t r = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2, r = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3, r = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4, r = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // > U+10FFFF
    } else {
        return {0xFFFD, 1};
    }
    if (i + n > s.size()) return {0xFFFD, 1};
    for (size_t k = 1; k < n; k++, lo = 0x80, hi = 0xBF) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if (c < lo || c > hi) return {0xFFFD, 1};
        r = (r << 6) | (c & 0x3F);
    }
    return {r, n};
}

void append_utf8(std::string &out, char32_t r) {
    if (r < 0x80) {
        out.push_back(static_cast<char>(r));
    } else if (r < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (r >> 6)));
        out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else if (r < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (r >> 12)));
        out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (r >> 18)));
        out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    }
}

void append_ascii(std::string &out, unsigned char b) {
    switch (b) {
        case '"': out += "\\\""; return;
        case '\\': out += "\\\\"; return;
        case '\b': out += "\\b"; return;
        case '\f': out += "\\f"; return;
        case '\n': out += "\\n"; return;
        case '\r': out += "\\r"; return;
        case '\t': out += "\\t"; return;
        default: break;
    }
    if (b < 0x20 || b == '<' || b == '>' || b == '&') {
        out += "\\u00";
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0xF]);
    } else {
        out.push_back(static_cast<char>(b));
    }
}

// Go's appendString with escapeHTML on.
void append_quoted(std::string &out, std::string_view s) {
    out.push_back('"');
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            append_ascii(out, b);
            i++;
            continue;
        }
        auto [r, n] = decode_rune(s, i);
        if (r == 0xFFFD && n == 1) {
            out += "\\ufffd";
        } else if (r == 0x2028 || r == 0x2029) {
            out += "\\u202";
            out.push_back(kHex[r & 0xF]);
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    out.push_back('"');
}

// A string after a Go encode/decode round trip: each invalid byte replaced by the rune U+FFFD.
std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        auto [r, n] = decode_rune(s, i);
        out += r == 0xFFFD && n == 1 ? kReplacement : s.substr(i, n);
        i += n;
    }
    return out;
}

// Go's 'f' layout of the shortest round-trip digits: like strconv.FormatFloat(f, 'f', -1, 64), digits
// past the shortest form are zeros ("18446744073709552000"), not the exact binary value.
std::string fixed_from_scientific(std::string_view sci) {
    std::string out;
    if (sci.front() == '-') {
        out.push_back('-');
        sci.remove_prefix(1);
    }
    const size_t e = sci.find('e');
    std::string digits(sci.substr(0, e));
    std::erase(digits, '.');
    int exp = 0;
    std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+'), sci.data() + sci.size(), exp);
    if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    const size_t int_len = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0');
    return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

// Go's floatEncoder for float64: shortest 'f' form for 1e-6 <= |f| < 1e21, else shortest 'e' form
// with a two-digit negative exponent shortened ("1e-07" -> "1e-7").
std::string float_text(double f) {
    if (!std::isfinite(f)) fail("E_INTERNAL", "json: unsupported value: non-finite number");
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
    std::string s(buf, res.ptr);
    const double a = std::fabs(f);
    if (a == 0 || (a >= 1e-6 && a < 1e21)) return fixed_from_scientific(s);
    const size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
        s[n - 2] = s[n - 1];
        s.pop_back();
    }
    return s;
}

enum class Mode { compact, indent, canonical };

void write(std::string &out, const ordered &v, Mode mode, int depth);

void newline(std::string &out, int depth) {
    out.push_back('\n');
    out.append(static_cast<size_t>(depth) * 2, ' ');
}

// CanonicalMarshal's view of an object: it went through a Go map, so keys are the decoded strings
// (bad bytes now U+FFFD), a repeated key keeps its last value, and the order is that of the decoded
// keys -- not of their escaped forms, which sort differently ("a\n" < "a!" but "a\\n" > "a!").
std::vector<std::pair<std::string, const ordered *>> canonical_members(const ordered &v) {
    std::vector<std::pair<std::string, const ordered *>> members;
    for (auto it = v.begin(); it != v.end(); ++it) members.emplace_back(valid_utf8(it.key()), &it.value());
    std::stable_sort(members.begin(), members.end(), [](auto &a, auto &b) { return a.first < b.first; });
    auto same_key = [](auto &a, auto &b) { return a.first == b.first; };
    std::reverse(members.begin(), members.end());  // so that unique() keeps the last of equal keys
    members.erase(std::unique(members.begin(), members.end(), same_key), members.end());
    std::reverse(members.begin(), members.end());
    return members;
}

void write_object(std::string &out, const ordered &v, Mode mode, int depth) {
    if (v.empty()) {
        out += "{}";
        return;
    }
    out.push_back('{');
    bool first = true;
    auto member = [&](std::string_view quoted_key, const ordered &value) {
        if (!first) out.push_back(',');
        first = false;
        if (mode == Mode::indent) newline(out, depth + 1);
        out += quoted_key;
        out += mode == Mode::indent ? ": " : ":";
        write(out, value, mode, depth + 1);
    };
    if (mode == Mode::canonical) {
        for (auto &[key, value] : canonical_members(v)) member(quote(key), *value);
    } else {
        for (auto it = v.begin(); it != v.end(); ++it) member(quote(it.key()), it.value());
    }
    if (mode == Mode::indent) newline(out, depth);
    out.push_back('}');
}

void write_array(std::string &out, const ordered &v, Mode mode, int depth) {
    if (v.empty()) {
        out += "[]";
        return;
    }
    out.push_back('[');
    bool first = true;
    for (const auto &e : v) {
        if (!first) out.push_back(',');
        first = false;
        if (mode == Mode::indent) newline(out, depth + 1);
        write(out, e, mode, depth + 1);
    }
    if (mode == Mode::indent) newline(out, depth);
    out.push_back(']');
}

void write(std::string &out, const ordered &v, Mode mode, int depth) {
    switch (v.type()) {
        case ordered::value_t::object: return write_object(out, v, mode, depth);
        case ordered::value_t::array: return write_array(out, v, mode, depth);
        case ordered::value_t::string: {
            // CanonicalMarshal re-marshals decoded strings: a bad byte is a raw U+FFFD there, not "\ufffd".
            const auto &str = v.get_ref<const std::string &>();
            return append_quoted(out, mode == Mode::canonical ? valid_utf8(str) : str);
        }
        case ordered::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
        case ordered::value_t::null: out += "null"; return;
        case ordered::value_t::number_integer:
        case ordered::value_t::number_unsigned:
        case ordered::value_t::number_float:
            // CanonicalMarshal decodes every number into a float64 before writing it.
            out += mode == Mode::canonical ? float_text(v.get<double>()) : number(v);
            return;
        default: fail("E_INTERNAL", "json: unsupported value type");
    }
}

// ---- parser ------------------------------------------------------------------------------------

// The vector under an ordered_json object, to append members without ordered_map's key search.
ordered::object_t::Container &as_container(ordered &v) {
    return static_cast<ordered::object_t::Container &>(v.get_ref<ordered::object_t &>());
}

// Go's decoding into `any`: for a repeated key the last value wins (kept at its last position);
// with `strict`, a number beyond float64 range is an error and every number becomes a float64.
ordered normalize(const ordered &v, bool strict) {
    if (v.is_number() && strict) {
        const double d = v.get<double>();
        if (!std::isfinite(d)) throw DecodeError("cannot unmarshal number into Go value of type float64");
        return d;
    }
    if (v.is_array()) {
        ordered out = ordered::array();
        for (const auto &e : v) out.push_back(normalize(e, strict));
        return out;
    }
    if (!v.is_object()) return v;
    std::unordered_map<std::string_view, size_t> last;
    size_t i = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++i) last[it.key()] = i;
    ordered out = ordered::object();
    auto &members = as_container(out);
    i = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++i) {
        ordered value = normalize(it.value(), strict);  // an overwritten value must still decode
        if (last[it.key()] == i) members.emplace_back(it.key(), std::move(value));
    }
    return out;
}


class Parser {
   public:
    explicit Parser(std::string_view s) : s_(s) {}

    std::optional<ordered> document(std::string *error) {
        ordered v;
        bool ok = value(v, 0);
        if (ok) {
            skip_ws();
            if (i_ != s_.size()) ok = error_at("after top-level value");
        }
        if (ok) return v;
        if (error) *error = err_;
        return std::nullopt;
    }

   private:
    std::string_view s_;
    size_t i_ = 0;
    std::string err_;

    bool error_at(std::string_view what) {
        if (i_ >= s_.size()) {
            err_ = "unexpected end of JSON input";
        } else {
            err_ = "invalid character at offset " + std::to_string(i_) + " " + std::string(what);
        }
        return false;
    }
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) i_++;
    }
    bool eat(char c) {
        skip_ws();
        if (i_ < s_.size() && s_[i_] == c) {
            i_++;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word) {
        if (s_.substr(i_, word.size()) != word) return error_at("in literal");
        i_ += word.size();
        return true;
    }

    bool value(ordered &out, int depth) {
        skip_ws();
        if (i_ >= s_.size()) return error_at("");
        const char c = s_[i_];
        if ((c == '{' || c == '[') && depth >= kMaxDepth) return error_at("(exceeded max depth)");
        switch (c) {
            case '{': return object(out, depth);
            case '[': return array(out, depth);
            case '"': {
                std::string str;
                if (!string(str)) return false;
                out = std::move(str);
                return true;
            }
            case 't': out = true; return literal("true");
            case 'f': out = false; return literal("false");
            case 'n': out = nullptr; return literal("null");
            default: return number(out);
        }
    }

    // Repeated keys are all kept, in document order (ordered_map's own insert would drop them and
    // search linearly): decode_struct needs every member, as Go's decoder sees them; normalize()
    // reduces them for generic values.
    bool object(ordered &out, int depth) {
        i_++;  // '{'
        out = ordered::object();
        auto &members = as_container(out);
        if (eat('}')) return true;
        do {
            skip_ws();
            std::string key;
            if (i_ >= s_.size() || s_[i_] != '"') return error_at("looking for beginning of object key string");
            if (!string(key)) return false;
            if (!eat(':')) return error_at("after object key");
            ordered v;
            if (!value(v, depth + 1)) return false;
            members.emplace_back(std::move(key), std::move(v));
        } while (eat(','));
        return eat('}') || error_at("after object key:value pair");
    }

    bool array(ordered &out, int depth) {
        i_++;  // '['
        out = ordered::array();
        if (eat(']')) return true;
        do {
            ordered v;
            if (!value(v, depth + 1)) return false;
            out.push_back(std::move(v));
        } while (eat(','));
        return eat(']') || error_at("after array element");
    }

    int hex4(size_t at) const {
        if (at + 4 > s_.size()) return -1;
        int r = 0;
        for (size_t k = at; k < at + 4; k++) {
            const char c = s_[k];
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return -1;
            r = r * 16 + d;
        }
        return r;
    }

    // A \u escape at i_ (pointing at 'u'), with Go's surrogate rules: a high surrogate followed by a
    // \u low surrogate is one rune; any other surrogate becomes U+FFFD.
    bool unicode_escape(std::string &out) {
        int r = hex4(i_ + 1);
        if (r < 0) return error_at("in \\u hexadecimal character escape");
        i_ += 5;
        if (r >= 0xD800 && r < 0xE000) {
            const int r2 = s_.substr(i_, 2) == "\\u" ? hex4(i_ + 2) : -1;
            if (r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000) {
                i_ += 6;
                r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
            } else {
                r = 0xFFFD;
            }
        }
        append_utf8(out, static_cast<char32_t>(r));
        return true;
    }

    bool escape(std::string &out) {
        if (++i_ >= s_.size()) return error_at("");
        const char c = s_[i_];
        static constexpr std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
        if (auto k = from.find(c); k != std::string_view::npos) {
            out.push_back(to[k]);
            i_++;
            return true;
        }
        if (c == 'u') return unicode_escape(out);
        return error_at("in string escape code");
    }

    bool string(std::string &out) {
        i_++;  // opening quote
        while (i_ < s_.size()) {
            const auto b = static_cast<unsigned char>(s_[i_]);
            if (b == '"') {
                i_++;
                return true;
            }
            if (b < 0x20) return error_at("in string literal");
            if (b == '\\') {
                if (!escape(out)) return false;
            } else if (b < 0x80) {
                out.push_back(static_cast<char>(b));
                i_++;
            } else {
                auto [r, n] = decode_rune(s_, i_);
                out.append(r == 0xFFFD && n == 1 ? kReplacement : s_.substr(i_, n));
                i_ += n;
            }
        }
        return error_at("");
    }

    size_t digits() {
        const size_t start = i_;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') i_++;
        return i_ - start;
    }

    bool number(ordered &out) {
        const size_t start = i_;
        if (s_[i_] == '-') i_++;
        if (i_ < s_.size() && s_[i_] == '0') {
            i_++;
        } else if (digits() == 0) {
            return error_at("looking for beginning of value");
        }
        bool is_int = true;
        if (i_ < s_.size() && s_[i_] == '.') {
            i_++, is_int = false;
            if (digits() == 0) return error_at("after decimal point in numeric literal");
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            i_++, is_int = false;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) i_++;
            if (digits() == 0) return error_at("in exponent of numeric literal");
        }
        const std::string_view lit = s_.substr(start, i_ - start);
        // "-0" is kept as the float -0.0 Go decodes it to (an int field still accepts it).
        if (is_int && lit != "-0" && integer(lit, out)) return true;
        out = to_double(lit);
        return true;
    }

    static bool integer(std::string_view lit, ordered &out) {
        int64_t i = 0;
        if (std::from_chars(lit.data(), lit.data() + lit.size(), i).ec == std::errc()) {
            out = i;
            return true;
        }
        uint64_t u = 0;
        if (lit[0] != '-' && std::from_chars(lit.data(), lit.data() + lit.size(), u).ec == std::errc()) {
            out = u;
            return true;
        }
        return false;
    }

    // from_chars reports overflow and underflow alike; Go's ParseFloat gives +-Inf (an error for the
    // field decoder) for the first and +-0 for the second.
    static double to_double(std::string_view lit) {
        double d = 0;
        if (std::from_chars(lit.data(), lit.data() + lit.size(), d).ec == std::errc()) return d;
        const bool neg = lit[0] == '-';
        return (decimal_exponent(lit) > 0 ? std::numeric_limits<double>::infinity() : 0.0) * (neg ? -1 : 1);
    }

    // The power of ten of the first significant digit (saturating), enough to tell overflow from underflow.
    static int64_t decimal_exponent(std::string_view lit) {
        const size_t e = lit.find_first_of("eE");
        const std::string_view mant = lit.substr(0, e);
        int64_t exp = 0;
        if (e != std::string_view::npos) {
            size_t k = e + 1;
            const bool neg = lit[k] == '-';
            if (lit[k] == '+' || lit[k] == '-') k++;
            for (; k < lit.size(); k++) exp = std::min<int64_t>(exp * 10 + (lit[k] - '0'), 1000000000);
            if (neg) exp = -exp;
        }
        const size_t dot = std::min(mant.find('.'), mant.size());
        const size_t first = mant.find_first_of("123456789");
        if (first == std::string_view::npos) return -1;  // zero
        return exp + (first < dot ? static_cast<int64_t>(dot - first) - 1 : -static_cast<int64_t>(first - dot));
    }
};

// Repeated keys kept (see Parser::object); decode_struct works on this form.
std::optional<ordered> parse_raw(std::string_view bytes, std::string *error) { return Parser(bytes).document(error); }

// Go's foldName restricted to what can equal an ASCII field name: ASCII letters upper-cased, and the
// two non-ASCII runes whose fold set contains an ASCII letter (U+017F long s, U+212A Kelvin sign).
std::string fold_name(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        auto [r, n] = decode_rune(s, i);
        if (r == 0x17F) r = 'S';
        if (r == 0x212A) r = 'K';
        if (r >= 'a' && r <= 'z') r -= 'a' - 'A';
        append_utf8(out, r);
        i += n;
    }
    return out;
}

const Field *find_field(const std::vector<Field> &fields, const std::string &key) {
    for (const auto &f : fields)
        if (f.name == key) return &f;
    const std::string folded = fold_name(key);
    for (const auto &f : fields)
        if (fold_name(f.name) == folded) return &f;
    return nullptr;
}

[[noreturn]] void type_error(const ordered &v, std::string_view go_type) {
    throw DecodeError("cannot unmarshal " + std::string(v.is_number() ? "number" : v.type_name()) + " into Go value of type " +
                      std::string(go_type));
}

}  // namespace

std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    append_quoted(out, s);
    return out;
}

std::string number(const ordered &v) {
    switch (v.type()) {
        case ordered::value_t::number_integer: return std::to_string(v.get<int64_t>());
        case ordered::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
        case ordered::value_t::number_float: return float_text(v.get<double>());
        default: fail("E_INTERNAL", "json: number() called on a non-number");
    }
}

std::string compact(const ordered &v) {
    std::string out;
    write(out, v, Mode::compact, 0);
    return out;
}

std::string indent(const ordered &v) {
    std::string out;
    write(out, v, Mode::indent, 0);
    return out;
}

std::string canonical(const ordered &v) {
    std::string out;
    write(out, v, Mode::canonical, 0);
    return out;
}

std::optional<ordered> parse(std::string_view bytes, std::string *error) {
    auto raw = parse_raw(bytes, error);
    if (!raw) return raw;
    return normalize(*raw, false);
}

ordered decode_any(const ordered &v) { return normalize(v, true); }

void decode_struct(const ordered &v, const std::vector<Field> &fields) {
    if (v.is_null()) return;
    if (!v.is_object()) type_error(v, "struct");
    for (auto it = v.begin(); it != v.end(); ++it)
        if (const Field *f = find_field(fields, it.key())) f->set(it.value());
}

std::optional<std::string> decode_document(std::string_view bytes, const std::vector<Field> &fields) {
    std::string error;
    auto doc = parse_raw(bytes, &error);
    if (!doc) return error;
    try {
        decode_struct(*doc, fields);
    } catch (const DecodeError &e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

void decode_string(const ordered &v, std::string &out) {
    if (v.is_null()) return;
    if (!v.is_string()) type_error(v, "string");
    out = v.get<std::string>();
}

void decode_string_list(const ordered &v, std::vector<std::string> &out) {
    if (v.is_null()) {
        out.clear();
        return;
    }
    if (!v.is_array()) type_error(v, "[]string");
    out.resize(v.size());
    for (size_t i = 0; i < v.size(); i++) decode_string(v[i], out[i]);
}

void decode_int(const ordered &v, int64_t &out) {
    if (v.is_null()) return;
    if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
        out = static_cast<int64_t>(v.get<uint64_t>());
    } else if (v.is_number_integer() && !v.is_number_unsigned()) {
        out = v.get<int64_t>();
    } else if (v.is_number_float() && v.get<double>() == 0 && std::signbit(v.get<double>())) {
        out = 0;  // the literal "-0" (parse keeps it as -0.0); "-0.0" lands here too, which Go would refuse
    } else {
        type_error(v, "int");
    }
}

void decode_time(const ordered &v, Timestamp &out) {
    if (v.is_null()) return;
    if (!v.is_string()) throw DecodeError("Time.UnmarshalJSON: input is not a JSON string");
    auto t = parse_rfc3339(v.get_ref<const std::string &>());
    if (!t) throw DecodeError("parsing time " + quote(v.get_ref<const std::string &>()) + " as RFC 3339");
    out = *t;
}

}  // namespace jvs::gojson
