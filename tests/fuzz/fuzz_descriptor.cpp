// parse_descriptor on arbitrary bytes; an accepted descriptor must serialise, re-parse, and reach a
// byte-identical fixpoint (serialize . parse . serialize == serialize), with a stable checksum.
#include <cstddef>
#include <cstdint>
#include <string>

#include "format/descriptor.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view in(reinterpret_cast<const char *>(data), size);
    jvs::Descriptor d;
    if (!jvs_fuzz::only_jvs_errors("parse_descriptor", [&] { d = jvs::parse_descriptor(in); })) return 0;
    std::string s1, s2, c1, c2;
    jvs_fuzz::only_jvs_errors("serialize", [&] {
        s1 = jvs::serialize_descriptor(d);
        c1 = jvs::descriptor_checksum(d);
    });
    if (s1.empty()) return 0;  // refused to serialise (jvs::Error): acceptable
    jvs::Descriptor d2;
    bool ok = jvs_fuzz::only_jvs_errors("reparse", [&] { d2 = jvs::parse_descriptor(s1); });
    FUZZ_CHECK(ok, s1);  // what we write, we must read back
    s2 = jvs::serialize_descriptor(d2);
    c2 = jvs::descriptor_checksum(d2);
    FUZZ_CHECK(s1 == s2, s1 + "\n----\n" + s2);
    FUZZ_CHECK(c1 == c2, c1 + " vs " + c2);
    return 0;
}
