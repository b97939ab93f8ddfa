// validate_name / validate_tag / validate_note / clean_relative_path against their documented rules
// (lib/util/names.hpp): whatever is accepted satisfies them, and cleaning is idempotent.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "util/names.hpp"

namespace {
bool charset_ok(std::string_view s) {
    for (unsigned char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view in(reinterpret_cast<const char *>(data), size);
    std::string in_s(in);

    std::string name;
    if (jvs_fuzz::only_jvs_errors("validate_name", [&] { name = jvs::validate_name(in); })) {
        FUZZ_CHECK(!name.empty() && name.size() <= 255, in_s);
        FUZZ_CHECK(charset_ok(name), in_s);
        FUZZ_CHECK(name != "." && name.find("..") == std::string::npos, in_s);
        FUZZ_CHECK(name[0] != '-' && name[0] != '.', in_s);
        std::string again;
        bool ok = jvs_fuzz::only_jvs_errors("validate_name(again)", [&] { again = jvs::validate_name(name); });
        FUZZ_CHECK(ok && again == name, in_s);
    }

    if (jvs_fuzz::only_jvs_errors("validate_tag", [&] { jvs::validate_tag(in); })) {
        FUZZ_CHECK(!in.empty() && in.size() <= 255 && charset_ok(in), in_s);
        FUZZ_CHECK(in[0] != '-' && in != "HEAD", in_s);
    }

    if (jvs_fuzz::only_jvs_errors("validate_note", [&] { jvs::validate_note(in); })) {
        FUZZ_CHECK(in.size() <= (1u << 20) && jvs::is_valid_utf8(in), in_s);
        FUZZ_CHECK(in.find('\0') == std::string_view::npos, in_s);
    }

    std::string p;
    if (jvs_fuzz::only_jvs_errors("clean_relative_path", [&] { p = jvs::clean_relative_path(in); })) {
        FUZZ_CHECK(!p.empty() && p != "." && p.front() != '/' && p.back() != '/', in_s + " -> " + p);
        FUZZ_CHECK(p.find("//") == std::string::npos, in_s + " -> " + p);
        size_t start = 0;
        while (start <= p.size()) {
            size_t end = p.find('/', start);
            if (end == std::string::npos) end = p.size();
            std::string_view comp(p.data() + start, end - start);
            FUZZ_CHECK(comp != ".." && comp != "." && !comp.empty(), in_s + " -> " + p);
            start = end + 1;
        }
        for (unsigned char c : p) FUZZ_CHECK(c >= 0x20 && c != 0x7f, in_s + " -> " + p);
        std::string again;
        bool ok = jvs_fuzz::only_jvs_errors("clean_relative_path(again)", [&] { again = jvs::clean_relative_path(p); });
        FUZZ_CHECK(ok && again == p, in_s + " -> " + p + " -> " + again);
    }
    return 0;
}
