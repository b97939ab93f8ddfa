#include "util/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace jvs {

namespace {
struct Target {
    std::string name;
    long nth = 1;
    bool active = false;
};

const Target &target() {
    static const Target t = [] {
        Target t;
        const char *env = std::getenv("JVS_FAULT_KILL_AT");
        if (!env || !*env) return t;
        std::string s(env);
        auto hash = s.find('#');
        t.name = s.substr(0, hash);
        if (hash != std::string::npos) t.nth = std::max(1L, std::atol(s.c_str() + hash + 1));
        t.active = true;
        return t;
    }();
    return t;
}

std::atomic<long> hits{0};

// In the order each operation passes them.
const char *const kPoints[] = {
    "snapshot.after_intent",   "snapshot.mid_copy",       "snapshot.after_copy",
    "snapshot.after_manifest", "snapshot.after_ready",    "snapshot.after_rename",
    "snapshot.after_descriptor", "snapshot.after_config", "snapshot.after_audit",
    "restore.after_plan",      "restore.mid_write",       "restore.after_write",
    "restore.after_config",
    "fork.after_claim",        "fork.mid_write",          "fork.after_populate",
    "fork.after_config",
    "remove.after_config",     "remove.after_payload",
    "gc.mid_mark",             "gc.after_tombstones",     "gc.after_unpublish",
    "gc.mid_delete",           "gc.after_delete",         "gc.after_plan_removed",
    nullptr,
};
}  // namespace

void fault_point(const char *name) {
    const Target &t = target();
    if (!t.active || t.name != name) return;
    if (hits.fetch_add(1) + 1 == t.nth) ::kill(::getpid(), SIGKILL);
}

const char *const *fault_point_names() { return kPoints; }

}  // namespace jvs
