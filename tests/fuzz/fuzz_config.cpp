// The other on-disk formats: worktree config.json (parse + serialise fixpoint), one audit.jsonl line
// (parse + hash + serialise), and .jvs/config.yaml through load_repo_config on a private repo copy.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "format/audit.hpp"
#include "format/worktree_config.hpp"
#include "fuzz_common.hpp"
#include "repo/config.hpp"
#include "repo/repo.hpp"

static const jvs::Repo &repo() {
    static jvs::Repo r = jvs::Repo::discover(jvs_fuzz::fixture_repo());
    return r;
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)repo();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view in(reinterpret_cast<const char *>(data), size);

    jvs::WorktreeConfig c;
    if (jvs_fuzz::only_jvs_errors("parse_worktree_config", [&] { c = jvs::parse_worktree_config(in); })) {
        std::string s1;
        jvs_fuzz::only_jvs_errors("serialize_worktree_config", [&] { s1 = jvs::serialize_worktree_config(c); });
        if (!s1.empty()) {
            jvs::WorktreeConfig c2;
            bool ok = jvs_fuzz::only_jvs_errors("reparse", [&] { c2 = jvs::parse_worktree_config(s1); });
            FUZZ_CHECK(ok, s1);
            std::string s2 = jvs::serialize_worktree_config(c2);
            FUZZ_CHECK(s1 == s2, s1 + "\n----\n" + s2);
        }
    }

    jvs_fuzz::only_jvs_errors("parse_audit_line", [&] {
        auto rec = jvs::parse_audit_line(in);
        if (rec) {
            (void)jvs::audit_record_hash(*rec);
            (void)jvs::serialize_audit_line(*rec);
        }
    });

    {
        std::ofstream f(repo().jvs_dir() + "/config.yaml", std::ios::binary | std::ios::trunc);
        f.write(in.data(), static_cast<std::streamsize>(in.size()));
    }
    jvs_fuzz::only_jvs_errors("load_repo_config", [&] { (void)jvs::load_repo_config(repo()); });
    return 0;
}
