// resolve_ref on the Go-written fixture repository (4+ snapshots, tags, two worktrees) with an
// arbitrary ref string: it returns a descriptor that exists, or throws jvs::Error -- nothing else.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_common.hpp"
#include "repo/refs.hpp"
#include "repo/repo.hpp"

namespace {
struct State {
    jvs::Repo repo;
    std::optional<jvs::WorktreeConfig> main_wt;
};
State &state() {
    static State s{jvs::Repo::discover(jvs_fuzz::fixture_repo()), std::nullopt};
    static bool loaded = [] {
        s.main_wt = s.repo.load_worktree("main");
        return true;
    }();
    (void)loaded;
    return s;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)state();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    std::string_view ref(reinterpret_cast<const char *>(data), size);
    State &s = state();
    for (auto wt : {s.main_wt, std::optional<jvs::WorktreeConfig>{}}) {
        for (auto mode : {jvs::HeadMeans::Head, jvs::HeadMeans::Latest}) {
            jvs_fuzz::only_jvs_errors("resolve_ref", [&] {
                jvs::ResolvedRef r = jvs::resolve_ref(s.repo, wt, ref, mode);
                FUZZ_CHECK(!r.descriptor.snapshot_id.empty(), ref);
                FUZZ_CHECK(!r.matched_by.empty(), ref);
            });
        }
    }
    return 0;
}
