#include "util/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "util/error.hpp"

namespace jvs {

namespace {
struct Target {
    std::string name;
    long nth = 1;
    std::string code;  // failures only
    bool active = false;
};

// "<point>[#<n>][=<code>]"
Target parse_target(const char *var, const char *default_code) {
    Target t;
    const char *env = std::getenv(var);
    if (!env || !*env) return t;
    std::string s(env);
    t.code = default_code;
    if (auto eq = s.find('='); eq != std::string::npos) {
        t.code = s.substr(eq + 1);
        s.resize(eq);
    }
    auto hash = s.find('#');
    t.name = s.substr(0, hash);
    if (hash != std::string::npos) t.nth = std::max(1L, std::atol(s.c_str() + hash + 1));
    t.active = true;
    return t;
}

const Target &kill_target() {
    static const Target t = parse_target("JVS_FAULT_KILL_AT", "");
    return t;
}

const Target &fail_target() {
    static const Target t = parse_target("JVS_FAULT_FAIL_AT", "E_IO");
    return t;
}

std::atomic<long> kill_hits{0}, fail_hits{0};

// In the order each operation passes them. A snapshot's points after its payload is complete each
// precede one step that can fail: hash + manifest, .READY, syncfs, staging the descriptor and the
// worktree config, renaming the directory into place, the descriptor (the publish point), the config,
// the audit record, removing the intent. (The stat cache is saved before all of them, once the
// files are read: snapshot.before_cache.)
const char *const kPoints[] = {
    "snapshot.after_intent",   "snapshot.mid_copy",       "snapshot.before_cache",
    "snapshot.after_copy",     "snapshot.after_manifest", "snapshot.after_ready",
    "snapshot.after_sync",     "snapshot.after_stage",    "snapshot.after_rename",
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
    const Target &k = kill_target();
    if (k.active && k.name == name && kill_hits.fetch_add(1) + 1 == k.nth) ::kill(::getpid(), SIGKILL);
    const Target &f = fail_target();
    if (f.active && f.name == name && fail_hits.fetch_add(1) + 1 == f.nth)
        fail(f.code, std::string("injected failure at ") + name + " (JVS_FAULT_FAIL_AT)", "a test asked for this failure",
             {{"fault_point", name}});
}

const char *const *fault_point_names() { return kPoints; }

}  // namespace jvs
