// A repository on disk: its layout, discovery from any inner path, creation, and worktree configs.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "format/worktree_config.hpp"

namespace jvs {

inline constexpr int kFormatVersion = 1;

// A worktree name as part of a file name beside a prefix or suffix (its lock, claims, stat cache,
// fork staging directory): the name itself when it has at most 200 bytes, else its first 183 bytes,
// '~' and 16 hex digits of its sha256. Names may have 255 bytes, and a file name no more than 255 in
// all; '~' cannot occur in a name, so no other name has the same token.
std::string worktree_token(const std::string &name);

// How `init` lays a repository out. Standard: the Go tool's (R/.jvs, R/main, R/worktrees/<name>).
// Adopted: an existing directory becomes the main worktree in place (R/.jvs beside its files, which
// keep their paths and inodes), marked by .jvs/layout.json; the other worktrees live in
// R/.jvs/worktree-payloads/<name>, and a top-level `.jvs` is never part of a worktree's content.
enum class InitLayout { Auto, Standard, Adopt };  // Auto: Adopt for an existing non-empty directory

class Repo {
   public:
    // Walks up from `start` (which must exist) to the first directory holding `.jvs/`.
    // Throws E_NOT_REPO, E_FORMAT_UNSUPPORTED, E_CONFIG_CORRUPT.
    static Repo discover(const std::string &start);
    // Creates a repository at `path` (created if missing). Throws E_REPO_EXISTS if `path` or a
    // parent of it already holds `.jvs` (nothing is written), E_PATH_CONFLICT if `path` is not a
    // directory.
    static Repo create(const std::string &path, InitLayout layout = InitLayout::Auto);

    const std::string &root() const { return root_; }
    const std::string &repo_id() const { return repo_id_; }
    int format_version() const { return format_version_; }
    // The main worktree is the repository directory itself (InitLayout::Adopt).
    bool adopted() const { return adopted_; }
    // Whether a path relative to a worktree's root is the repository's control directory (a
    // top-level `.jvs` in an adopted repository): scans skip it, checkouts never write or delete it,
    // snapshots never store it.
    bool is_control_rel(const std::string &rel) const;
    // The worktree the discovery path was inside, if any.
    const std::optional<std::string> &discovered_worktree() const { return discovered_worktree_; }

    std::string jvs_dir() const;
    std::string snapshots_dir() const;
    std::string descriptors_dir() const;
    std::string intents_dir() const;
    std::string audit_path() const;
    std::string audit_anchor_path() const;  // .jvs/audit_anchor.json (ours; see format/audit.hpp)
    std::string manifests_dir() const;
    std::string cache_dir() const;
    std::string locks_dir() const;
    std::string snapshot_dir(const std::string &id) const;
    std::string descriptor_path(const std::string &id) const;
    std::string manifest_path(const std::string &id) const;
    std::string intent_path(const std::string &id) const;
    std::string stat_cache_path(const std::string &worktree) const;  // .jvs/cache/<token>.stat
    std::string worktree_lock_path(const std::string &worktree) const;  // .jvs/locks/wt-<token>.lock
    // Where a JuiceFS fork stages its clone before renaming it over the payload directory.
    std::string fork_staging_path(const std::string &worktree) const;  // worktrees/<token>.jvs-clone-tmp

    std::string payload_path(const std::string &worktree) const;  // main -> R/main, x -> worktrees_dir()/x
    std::string worktrees_dir() const;  // R/worktrees, or R/.jvs/worktree-payloads when adopted
    std::string worktree_config_path(const std::string &worktree) const;
    bool worktree_exists(const std::string &worktree) const;
    // Throws E_WORKTREE_NOT_FOUND, E_CONFIG_CORRUPT (unparseable, or naming another worktree) or
    // E_PATH_UNSAFE (a name or snapshot id that would lead outside the repository).
    WorktreeConfig load_worktree(const std::string &worktree) const;
    void save_worktree(const WorktreeConfig &cfg) const;  // atomic, 0644
    std::vector<std::string> worktree_names() const;      // sorted

    // Ensures the directories jvs adds beside the Go layout exist (cheap; called by writers).
    void ensure_private_dirs() const;

   private:
    std::string root_;
    std::string repo_id_;
    int format_version_ = kFormatVersion;
    bool adopted_ = false;
    std::optional<std::string> discovered_worktree_;
};

}  // namespace jvs
