// Operation options JSON: the strict Options reader directly (every accessor on every key), then
// jvs_call-level entry points that only read (info, history, resolve, worktree list/path) on a
// private copy of the fixture repository, with the input as their opts_json.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "abi/options.hpp"
#include "fuzz_common.hpp"
#include "jvs.h"

namespace {
jvs_repo *repo_handle() {
    static jvs_repo *r = [] {
        jvs_repo *h = nullptr;
        char *err = nullptr;
        jvs_status st = jvs_repo_open((jvs_fuzz::fixture_repo() + "/main").c_str(), nullptr, &h, &err);
        if (st != 0) jvs_fuzz::die("jvs_repo_open on the fixture failed", err ? err : "");
        jvs_free(err);
        return h;
    }();
    return r;
}
const std::vector<std::string> kKeys = {"note", "tags", "ref", "limit", "worktree", "name", "paths", "all",
                                        "dry_run", "grep", "tag", "from", "to", "stat", "payload"};
}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)repo_handle();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string json(reinterpret_cast<const char *>(data), size);  // embedded NUL truncates: fine

    jvs_fuzz::only_jvs_errors("Options", [&] {
        jvs::Options o(json.c_str(), kKeys);
        for (const auto &k : kKeys) {
            jvs_fuzz::only_jvs_errors("str", [&] { (void)o.str(k.c_str()); });
            jvs_fuzz::only_jvs_errors("boolean", [&] { (void)o.boolean(k.c_str(), false); });
            jvs_fuzz::only_jvs_errors("integer", [&] {
                int64_t v = o.integer(k.c_str(), 0);
                FUZZ_CHECK(v >= 0, json);
            });
            jvs_fuzz::only_jvs_errors("required_str", [&] { (void)o.required_str(k.c_str()); });
            jvs_fuzz::only_jvs_errors("strings", [&] { (void)o.strings(k.c_str()); });
        }
    });

    using Fn = jvs_status (*)(jvs_repo *, const char *, char **);
    for (Fn fn : {Fn(jvs_info), Fn(jvs_history), Fn(jvs_resolve), Fn(jvs_worktree_list), Fn(jvs_worktree_path)}) {
        char *out = nullptr;
        jvs_status st = fn(repo_handle(), json.c_str(), &out);
        FUZZ_CHECK(out != nullptr, json);  // a result or an error document, always
        FUZZ_CHECK(st != JVS_E_INTERNAL, std::string(out));
        jvs_free(out);
    }
    for (const char *method : {"diff", "verify", "gc_pins", "no_such_method"}) {
        char *out = nullptr;
        jvs_status st = jvs_call(repo_handle(), method, json.c_str(), nullptr, nullptr, &out);
        FUZZ_CHECK(out != nullptr, json);
        FUZZ_CHECK(st != JVS_E_INTERNAL, std::string(out));
        jvs_free(out);
    }
    return 0;
}
