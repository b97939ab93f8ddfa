#include "util/names.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <vector>

#include "util/error.hpp"

namespace jvs {

namespace {
bool portable_chars(std::string_view s) {
    for (unsigned char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return !s.empty();
}

std::string nfc(std::string_view s) {
    utf8proc_uint8_t *out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t *>(std::string(s).c_str()));
    if (!out) return std::string(s);
    std::string r(reinterpret_cast<char *>(out));
    std::free(out);
    return r;
}

nlohmann::json value_detail(std::string_view v) {
    return {{"value", is_valid_utf8(v) ? std::string(v) : std::string("<invalid UTF-8>")}};
}
}  // namespace

bool is_valid_utf8(std::string_view s) {
    const auto *p = reinterpret_cast<const utf8proc_uint8_t *>(s.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0 || cp < 0) return false;
        p += n;
        left -= n;
    }
    return true;
}

std::string validate_name(std::string_view raw) {
    const char *hint = "use letters, digits, '.', '_' and '-' (not first), e.g. \"feature-1\"";
    if (raw.empty()) fail("E_NAME_INVALID", "name is empty", hint, value_detail(raw));
    if (!is_valid_utf8(raw)) fail("E_NAME_INVALID", "name is not valid UTF-8", hint, value_detail(raw));
    if (raw.find('\0') != std::string_view::npos)  // before NFC, which works on C strings
        fail("E_NAME_INVALID", "name contains a NUL byte", hint, value_detail(raw));
    std::string name = nfc(raw);
    if (name.size() > 255) fail("E_NAME_INVALID", "name is longer than 255 bytes", hint, value_detail(name));
    if (name.find("..") != std::string::npos)
        fail("E_NAME_INVALID", "name '" + name + "' contains '..'", hint, value_detail(name));
    if (!portable_chars(name))
        fail("E_NAME_INVALID", "name '" + name + "' contains characters outside [A-Za-z0-9._-]", hint,
             value_detail(name));
    if (name[0] == '.' || name[0] == '-')
        fail("E_NAME_INVALID", "name '" + name + "' starts with '" + name.substr(0, 1) + "'", hint,
             value_detail(name));
    return name;
}

void validate_tag(std::string_view tag) {
    const char *hint = "tags use letters, digits, '.', '_' and '-' (not first), e.g. \"v1.2\"";
    if (tag.empty()) fail("E_TAG_INVALID", "tag is empty", hint, value_detail(tag));
    if (tag.size() > 255) fail("E_TAG_INVALID", "tag is longer than 255 bytes", hint, value_detail(tag));
    if (!portable_chars(tag) || tag[0] == '-')
        fail("E_TAG_INVALID", "tag '" + std::string(is_valid_utf8(tag) ? tag : "?") + "' is not allowed", hint,
             value_detail(tag));
    if (tag == "HEAD") fail("E_TAG_INVALID", "tag 'HEAD' is reserved for references", hint, value_detail(tag));
}

void validate_note(std::string_view note) {
    const char *hint = "notes are UTF-8 text without NUL bytes, at most 1 MiB";
    if (!is_valid_utf8(note)) fail("E_NOTE_INVALID", "note is not valid UTF-8", hint);
    if (note.find('\0') != std::string_view::npos) fail("E_NOTE_INVALID", "note contains a NUL byte", hint);
    if (note.size() > (1u << 20)) fail("E_NOTE_INVALID", "note is longer than 1 MiB", hint);
}

std::string clean_relative_path(std::string_view path) {
    const char *hint = "give a path relative to the worktree root, without '..', e.g. \"data/train\"";
    auto bad = [&](const std::string &why) {
        fail("E_PATH_INVALID", "path '" + std::string(is_valid_utf8(path) ? path : "?") + "' " + why, hint,
             value_detail(path));
    };
    if (path.empty()) bad("is empty");
    if (path[0] == '/') bad("is absolute");
    for (unsigned char c : path)
        if (c < 0x20 || c == 0x7f) bad("contains a control character");
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view c = path.substr(i, j - i);
        if (c == "..") bad("contains '..'");
        if (!c.empty() && c != ".") parts.push_back(c);
        i = j + 1;
    }
    if (parts.empty()) bad("names the worktree root; omit paths to snapshot everything");
    std::string out;
    for (auto c : parts) {
        if (!out.empty()) out += '/';
        out += c;
    }
    return out;
}

std::optional<std::string> unsafe_path_reason(std::string_view rel) {
    if (rel.empty()) return std::string("is empty");
    if (rel[0] == '/') return std::string("is absolute");
    if (rel.find('\0') != std::string_view::npos) return std::string("contains a NUL byte");
    if (rel.size() > kPathMax) return "is longer than " + std::to_string(kPathMax) + " bytes";
    size_t i = 0;
    while (i <= rel.size()) {
        size_t j = rel.find('/', i);
        if (j == std::string_view::npos) j = rel.size();
        std::string_view c = rel.substr(i, j - i);
        if (c.empty()) return std::string("has an empty component");
        if (c == ".") return std::string("has a '.' component");
        if (c == "..") return std::string("has a '..' component");
        if (c.size() > kNameMax) return "has a component longer than " + std::to_string(kNameMax) + " bytes";
        i = j + 1;
    }
    return std::nullopt;
}

void fail_unsafe(std::string_view value, std::string_view field, const std::string &why) {
    std::string shown = is_valid_utf8(value) && value.size() <= 512 ? std::string(value) : "<" + std::to_string(value.size()) + " bytes>";
    fail("E_PATH_UNSAFE", std::string(field) + " '" + shown + "' " + why,
         "the repository's metadata was damaged or crafted to reach outside it; nothing acted on it: run "
         "`jvs verify --all` and `jvs doctor --strict`, and restore another snapshot",
         {{"field", std::string(field)}, {"value", value_detail(value)["value"]}});
}

void check_stored_path(std::string_view rel, std::string_view field) {
    if (auto why = unsafe_path_reason(rel)) fail_unsafe(rel, field, *why);
}

bool is_stored_name(std::string_view name) {
    return portable_chars(name) && name.size() <= kNameMax && name.find("..") == std::string_view::npos && name != ".";
}

void check_stored_name(std::string_view name, std::string_view field) {
    if (!is_stored_name(name)) fail_unsafe(name, field, "is not a worktree name");
}

bool in_scope(const std::string &rel, const std::vector<std::string> &scope) {
    if (scope.empty()) return true;
    for (const auto &p : scope)
        if (path_within(rel, p)) return true;
    return false;
}

bool path_within(std::string_view rel, std::string_view dir) {
    return rel == dir || (rel.size() > dir.size() && rel.substr(0, dir.size()) == dir && rel[dir.size()] == '/');
}

bool in_control_dir(std::string_view rel) {
    return rel.substr(0, 4) == ".jvs" && (rel.size() == 4 || rel[4] == '/');
}

}  // namespace jvs
