// commands.hpp -- the jvs subcommands: each takes its parsed arguments, builds the options JSON,
// calls one libjvs function through jvs.h and hands the document to output.cpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jvs.h"
#include "output.hpp"

namespace jvs_cli {

struct Globals {
    bool json = false;
    bool debug = false;
    bool no_progress = false;
    bool no_color = false;
    bool version = false;
    bool text = false; // --text: text output even when config.yaml sets output_format: json
    std::string dir; // -C
    std::optional<long long> lock_timeout_ms; // --lock-timeout, for commands that write
};

// Thrown with the error document once an operation fails; main() reports it.
struct Failed {
    json doc;
};

// Provided by main.cpp: the SIGINT handler interrupts this handle.
void set_interrupt_target(jvs_repo *repo);
bool interrupted();

// One CLI invocation: the globals, the output and the lazily opened repository handle.
class Session {
public:
    Session(const Globals &globals, Output &out, std::string cwd);
    ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    const Globals &g;
    Output &out;
    const std::string cwd; // where the command runs (after -C)

    jvs_repo *repo();             // jvs_repo_open(cwd) on first use; throws Failed
    const json &repo_doc();       // the "repo" document of that open
    std::string current_worktree(); // "" when cwd is not inside a worktree

    // Runs one ABI call. `fn` gets the progress callback, its user data and the out pointer.
    // Returns the result document or throws Failed with the error document. The buffer is
    // always released with jvs_free.
    using Call = std::function<jvs_status(jvs_event_cb, void *, char **)>;
    json call(const char *op, const Call &fn);

    // Prints `doc` as JSON (--json) or with `render`; returns kExitOk.
    template <typename Render> int emit(const json &doc, Render &&render) {
        if (out.json_mode())
            out.print_json(doc);
        else
            render();
        return kExitOk;
    }

    // Serialises an options object; an argument that is not valid UTF-8 fails with E_OPTION_INVALID.
    static std::string opts(const json &o);
    // The same for an operation that writes: adds lock_timeout_ms when --lock-timeout was given.
    std::string write_opts(json o) const;

private:
    static int32_t on_event(const char *event_json, void *user_data) noexcept;

    jvs_repo *repo_ = nullptr;
    json repo_doc_;
    ProgressBar progress_;
    void apply_repo_config(); // config.yaml output_format / progress_enabled, unless flags say otherwise
};

// ---- arguments ------------------------------------------------------------------------------
struct SnapshotArgs {
    std::optional<std::string> note; // "-" reads stdin
    std::optional<std::string> file; // -F; "-" reads stdin
    std::vector<std::string> tags, paths;
    std::optional<std::string> compress;
};
struct RestoreArgs {
    std::string ref;
    bool interactive = false;
    bool dry_run = false;
};
struct HistoryArgs {
    std::optional<long long> limit;
    std::optional<std::string> grep, tag;
    bool all = false;
};
struct VerifyArgs {
    std::optional<std::string> ref;
    bool all = false;
    bool checksum_only = false;  // descriptor checksums and .READY only, no payload hashing
};
struct DiffArgs {
    std::optional<std::string> from, to;
    bool stat = false;
};
struct DoctorArgs {
    bool strict = false, repair = false, repair_runtime = false, repair_list = false, dry_run = false;
    std::optional<std::string> cache_check;
};

struct GcPlanArgs {
    std::optional<int64_t> keep_last;
    std::optional<std::string> keep_within;
    std::vector<std::string> keep_tags;
    std::optional<std::string> keep_min_age;
};

struct PinArgs {
    std::string ref;
    std::optional<std::string> reason, expires;
};

// ---- commands (each returns the exit code; failures throw Failed) ---------------------------
// `adopt`: 1 --adopt, 0 --no-adopt, -1 the library decides (adopts an existing folder with files).
int cmd_init(Session &s, const std::string &path, int adopt);
int cmd_info(Session &s);
int cmd_snapshot(Session &s, const SnapshotArgs &a);
int cmd_restore(Session &s, const RestoreArgs &a);
int cmd_history(Session &s, const HistoryArgs &a);
int cmd_verify(Session &s, const VerifyArgs &a);
int cmd_worktree_create(Session &s, const std::string &name, const std::optional<std::string> &from);
int cmd_worktree_list(Session &s);
int cmd_worktree_path(Session &s, const std::optional<std::string> &name);
int cmd_worktree_rename(Session &s, const std::string &old_name, const std::string &new_name);
int cmd_worktree_remove(Session &s, const std::string &name, bool force);
int cmd_worktree_fork(Session &s, const std::optional<std::string> &ref_or_name, const std::optional<std::string> &name);

// Not in the library yet: forwarded through jvs_call(repo, method, params).
int cmd_diff(Session &s, const DiffArgs &a);
int cmd_doctor(Session &s, const DoctorArgs &a);
int cmd_gc_plan(Session &s, const GcPlanArgs &a);
int cmd_gc_pin(Session &s, const PinArgs &a);
int cmd_gc_unpin(Session &s, const std::string &ref);
int cmd_gc_pins(Session &s);
int cmd_gc_run(Session &s, const std::string &plan_id);
int cmd_config_show(Session &s);
int cmd_config_get(Session &s, const std::string &key);
int cmd_config_set(Session &s, const std::string &key, const std::string &value);
int cmd_config_unset(Session &s, const std::string &key);

// `jvs __complete <kind>`: completion candidates (refs, tags, worktrees, config-keys), one per
// line; nothing (and exit 0) when they cannot be listed.
int cmd_complete(Session &s, const std::string &kind);

} // namespace jvs_cli
