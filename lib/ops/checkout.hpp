// Checkout: make a directory hold exactly what a snapshot holds, in place. Shared by restore (an
// existing worktree), fork and `worktree create --from` (an empty one). The directory itself is
// never replaced, so its inode survives and processes inside it keep working.
#pragma once
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"
#include "ops/ops.hpp"
#include "repo/manifest.hpp"
#include "repo/stat_cache.hpp"

namespace jvs {

// One path a checkout changes. Its path is not copied: it is the target's (in the plan's view), or,
// for what goes, one the plan keeps (a restore that rewrites a million files holds a million changes).
struct Change {
    const std::string *path = nullptr;
    std::string_view action;                // create | update | delete | metadata | mkdir | rmdir
    const ManifestEntry *target = nullptr;  // what the path becomes (not for delete/rmdir)
    char existing_type = 0;                 // 'd' | 'f' | 'l' | 0 (absent)
    const std::string &rel() const { return *path; }
};

struct CheckoutPlan {
    Manifest view;  // the snapshot's manifest under worktree names (worktree_view); targets point here
    std::deque<std::string> removed;  // the paths of deletions (a deque: changes point at them)
    std::vector<Change> changes;
    std::vector<const ManifestEntry *> dirs_in_scope;  // pre-order; finished deepest first
    size_t unchanged = 0;
};

struct CheckoutStats {
    uint64_t created = 0, updated = 0, deleted = 0, metadata = 0, unchanged = 0, bytes_written = 0;
    uint64_t cloned = 0;                // files whose extents are shared with the snapshot
    std::vector<std::string> refused;   // files the filesystem would not clone (copied instead)
    std::vector<std::pair<std::string, std::string>> dropped_xattrs;  // (path, attribute) not kept
    std::vector<std::string> holes_filled;  // sparse files written without their holes
    nlohmann::ordered_json to_json() const;
};

// `dir` is the worktree's root and `snapshot` the snapshot directory's, both opened once: every file
// is reached beneath them, never through a symlink (a partial path below a symlink or a file in
// the worktree is refused before anything is written: E_PATH_ESCAPE, E_PATH_CONFLICT).
// `fresh`: `dir` is a new, not yet published worktree (fork, create --from): files are written in
// place instead of through a temp file and a rename.
// `scope`: the partial snapshot's paths (only those are compared, and only inside them is anything
// deleted); empty means the whole directory.
// `skip_control`: `dir` is a worktree of an adopted repository, whose top-level `.jvs` is the
// repository's: neither scanned, nor deleted, nor written (a snapshot entry there is left out).
// `manifest` is taken over (a caller done with it moves it in: the plan holds the only copy).
CheckoutPlan plan_checkout(const Dir &dir, Manifest manifest, const std::vector<std::string> &scope,
                           StatCache &cache, OpContext &ctx, bool skip_control = false);
CheckoutStats apply_checkout(const Dir &dir, const Dir &snapshot, const CheckoutPlan &plan, StatCache &cache,
                             OpContext &ctx, CopyMethod method, bool fresh, const char *fault_mid_write);
// The engine that ran for a checkout, and its degradations (files that could not be cloned).
std::string checkout_engine(const CheckoutStats &s, CopyMethod method);
nlohmann::ordered_json checkout_degradations(const CheckoutStats &s);
nlohmann::ordered_json plan_to_json(const CheckoutPlan &plan);

}  // namespace jvs
