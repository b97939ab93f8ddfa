// The operations of libjvs. Each takes typed options (parsed strictly by lib/abi) and returns its
// result document (schema 1). All rules live here and below; the ABI layer only translates.
#pragma once
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/lock.hpp"
#include "repo/repo.hpp"
#include "util/context.hpp"

namespace jvs {

using Doc = nlohmann::ordered_json;

// What a jvs_repo handle holds: immutable after open, so calls may run concurrently.
struct Session {
    Repo repo;
    std::optional<std::string> worktree;   // the worktree the handle was opened in
    std::atomic<uint64_t> interrupts{0};   // bumped by jvs_repo_interrupt
    explicit Session(Repo r) : repo(std::move(r)), worktree(repo.discovered_worktree()) {}
};

Doc make_doc(const char *kind);  // {"schema":1,"kind":kind}

struct InitOptions { std::string name; };
struct SnapshotOptions { std::string worktree, note; std::vector<std::string> tags, paths; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
struct RestoreOptions { std::string worktree, ref; bool dry_run = false; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
struct HistoryOptions { std::string worktree, grep, tag; int64_t limit = 0; bool all = false; };
struct ResolveOptions { std::string worktree, ref; };
struct VerifyOptions { std::string worktree, ref; bool all = false; bool payload = true; };
struct CreateOptions { std::string worktree, name, from; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
struct ForkOptions { std::string worktree, name, from; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
struct RenameOptions { std::string name, new_name; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
struct RemoveOptions { std::string name; bool force = false; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
struct PathOptions { std::string name; };

// Integrity and upkeep (lib/ops/diff.cpp, gc.cpp, doctor.cpp).
struct DiffOptions { std::string worktree, from, to; bool stat = false; };
struct GcPlanOptions { std::optional<int64_t> keep_last; std::string keep_within; std::vector<std::string> keep_tags; bool keep_tags_set = false; std::optional<std::string> keep_min_age; };
struct GcRunOptions { std::string plan_id; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
struct PinOptions { std::string worktree, ref, reason, expires; };
struct DoctorOptions {
    bool strict = false;
    bool repair = false;
    int64_t lock_timeout_ms = kDefaultLockTimeoutMs;
    bool dry_run = false;               // with repair: list the repairs (what each would remove or rebuild), run none
    std::string cache_check = "sample";  // strict: stat cache entries checked against their files: sample | all | none
};

Doc op_diff(const Session &s, const DiffOptions &o, OpContext &ctx);
Doc op_gc_plan(const Session &s, const GcPlanOptions &o, OpContext &ctx);
Doc op_gc_run(const Session &s, const GcRunOptions &o, OpContext &ctx);
Doc op_gc_pin(const Session &s, const PinOptions &o);
Doc op_gc_unpin(const Session &s, const PinOptions &o);
Doc op_gc_pins(const Session &s);
Doc op_doctor(const Session &s, const DoctorOptions &o, OpContext &ctx);

// Repository configuration (lib/ops/config.cpp): .jvs/config.yaml.
struct ConfigOptions { std::string key; nlohmann::json value; int64_t lock_timeout_ms = kDefaultLockTimeoutMs; };
Doc op_config_show(const Session &s);
Doc op_config_get(const Session &s, const ConfigOptions &o);
Doc op_config_set(const Session &s, const ConfigOptions &o);
Doc op_config_unset(const Session &s, const ConfigOptions &o);

Doc repo_doc(const Session &s, bool created);
Doc op_info(const Session &s, const std::optional<std::string> &worktree);
// build_info's `features`: what this build supports, plus engine:juicefs-clone when this machine has
// a juicefs executable on PATH (docs/API_REFERENCE.md §4.13).
std::vector<std::string> build_features();
Doc op_snapshot(const Session &s, const SnapshotOptions &o, OpContext &ctx);
Doc op_restore(const Session &s, const RestoreOptions &o, OpContext &ctx);
Doc op_history(const Session &s, const HistoryOptions &o);
Doc op_resolve(const Session &s, const ResolveOptions &o);
Doc op_verify(const Session &s, const VerifyOptions &o, OpContext &ctx);
Doc op_worktree_create(const Session &s, const CreateOptions &o, OpContext &ctx);
Doc op_worktree_fork(const Session &s, const ForkOptions &o, OpContext &ctx);
Doc op_worktree_list(const Session &s);
Doc op_worktree_path(const Session &s, const PathOptions &o);
Doc op_worktree_rename(const Session &s, const RenameOptions &o);
Doc op_worktree_remove(const Session &s, const RemoveOptions &o);

// Shared pieces used by several operations.
Doc worktree_doc(const Repo &repo, const WorktreeConfig &cfg);
// Appends an audit record; a failure becomes an entry in result["warnings"] (the operation is done).
// `fault` names a test-only fault point (util/fault) passed just before the append.
void audit(const Repo &repo, Doc &result, const std::string &event, const std::string &snapshot_id,
           const std::string &worktree, nlohmann::json details, const char *fault = nullptr);

}  // namespace jvs
