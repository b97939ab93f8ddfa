// Record files (util/records) as the stat cache and manifests read them, streamed from a file in
// chunks of 1 to 64 bytes: the streaming reader agrees with decode_records on every input (the same
// verdict, the same records), and StatCache::load / read_manifest on the same bytes return or throw
// jvs::Error -- nothing else; a cache that loads saves and loads back the same entries.
// Input: one control byte (chunk size, header, trailer), then the body after the header line.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "repo/manifest.hpp"
#include "repo/stat_cache.hpp"
#include "util/fs.hpp"
#include "util/records.hpp"
#include "util/sha256.hpp"

namespace {
const std::string &dir() {
    static std::string d = [] {
        char tmpl[] = "/tmp/jvs-fuzz-records-XXXXXX";
        if (!mkdtemp(tmpl)) jvs_fuzz::die("mkdtemp");
        static std::string cleanup = std::string("rm -rf '") + tmpl + "'";
        std::atexit([] { (void)std::system(cleanup.c_str()); });
        return std::string(tmpl);
    }();
    return d;
}

void put_file(const std::string &path, const std::string &bytes) {
    jvs::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd || ::write(fd.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        jvs_fuzz::die("cannot write the input file");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 8192) return 0;
    const unsigned ctl = data[0];
    const std::string body(reinterpret_cast<const char *>(data) + 1, size - 1);
    const std::string headers[] = {"jvs-stat-cache 2 h" + jvs::host_tag(), "jvs-manifest 1", "hdr 1"};
    const std::string &header = headers[(ctl >> 6) % 3];
    std::string bytes = header + "\n" + body;
    switch ((ctl >> 4) & 3) {  // a valid checksum (reaches the entries), the old bare trailer, or none
        case 0: bytes += "END " + jvs::sha256_hex(bytes) + "\n"; break;
        case 1: bytes += "END\n"; break;
        default: break;
    }
    const std::string path = dir() + "/f";
    put_file(path, bytes);

    const size_t chunk = 1 + (ctl & 15) * 4;
    for (bool require : {false, true}) {
        auto whole = jvs::decode_records(header, bytes, require);
        std::vector<jvs::Record> streamed;
        auto ok = jvs::for_each_record_in_file(path, header, require, [&](const std::vector<std::string_view> &r) {
            streamed.emplace_back(r.begin(), r.end());
            return true;
        }, chunk);
        FUZZ_CHECK(ok.has_value(), "the file exists");
        FUZZ_CHECK(*ok == whole.has_value(), "streamed and whole verdicts differ");
        FUZZ_CHECK(!*ok || streamed == *whole, "streamed and whole records differ");
    }

    jvs_fuzz::only_jvs_errors("read_manifest", [&] { (void)jvs::read_manifest(path); });
    jvs_fuzz::only_jvs_errors("StatCache::load", [&] {
        jvs::StatCache c = jvs::StatCache::load(path);
        if (c.size() == 0) return;
        auto items = c.items();
        c.save(dir() + "/saved");
        auto again = jvs::StatCache::load(dir() + "/saved").items();
        FUZZ_CHECK(again.size() == items.size(), "a saved cache loads back whole");
        for (size_t i = 0; i < items.size(); i++)
            FUZZ_CHECK(again[i].rel == items[i].rel && again[i].hash == items[i].hash && again[i].key == items[i].key,
                       items[i].rel);
    });
    return 0;
}
