// Writer locks: flock(2) on files under .jvs/locks/. Each acquisition opens its own file
// description, so locks exclude other threads of this process as well as other processes, and the
// kernel releases them when the holder dies (no stale locks after a crash).
#pragma once
#include <string>
#include <vector>

#include "util/fs.hpp"

namespace jvs {

class Repo;
class OpContext;

class FileLock {
   public:
    // Waits up to timeout_ms (0 = try once) with back-off, then throws E_LOCKED with the holder
    // (pid, host, op, since) in details. `what` names the lock in messages, e.g. "worktree 'main'".
    // While waiting, `ctx` (if given) is polled, so an interrupt or a cancelling callback ends the wait.
    static FileLock acquire(const std::string &path, int64_t timeout_ms, const std::string &op,
                            const std::string &what, OpContext *ctx = nullptr);
    FileLock(FileLock &&) = default;
    FileLock &operator=(FileLock &&) = default;
    ~FileLock();

   private:
    FileLock() = default;
    UniqueFd fd_;
};

inline constexpr int64_t kDefaultLockTimeoutMs = 30000;

FileLock lock_worktree(const Repo &repo, const std::string &worktree, int64_t timeout_ms, const std::string &op,
                       OpContext *ctx = nullptr);
// Serialises changes to the set of worktrees (rename, gc, repairs). Held briefly.
FileLock lock_repo(const Repo &repo, int64_t timeout_ms, const std::string &op, OpContext *ctx = nullptr);

// A file whose flock its creator holds while it lives: the kernel drops the flock when the holder
// dies, so an unlocked one is provably stale. Snapshot leases and payload claims are held files.
class HeldFile {
   public:
    // Creates `path` (O_EXCL), holds its flock and writes the owner record (pid, host, op, since).
    static HeldFile create(const std::string &path, const std::string &op);
    HeldFile(HeldFile &&) = default;
    HeldFile &operator=(HeldFile &&) = default;
    ~HeldFile();  // unlinks first, then closes (a reader that opened it meanwhile sees it unlocked)

   private:
    HeldFile() = default;
    std::string path_;
    UniqueFd fd_;
};

// A lease on a published snapshot that an operation reads from while it runs (restore, fork,
// `worktree create --from`): gc never deletes a snapshot with a live lease. The lease is a held
// file, .jvs/locks/use-<snapshot id>-<host tag>.<pid>-<n>.lock, so a crashed holder's lease is void at once (its
// file is then provably stale: gc run and doctor remove it).
// take() holds the repository lock while it checks that the snapshot is still published and creates
// the file; gc run holds that lock from its re-check to its last deletion, so a lease is either seen
// by gc or taken after gc finished (and then the deleted snapshot fails with E_REF_NOT_FOUND).
class SnapshotLease {
   public:
    static SnapshotLease take(const Repo &repo, const std::string &snapshot_id, const std::string &op,
                              int64_t timeout_ms, OpContext *ctx = nullptr);

   private:
    explicit SnapshotLease(HeldFile f) : file_(std::move(f)) {}
    HeldFile file_;
};

// A claim on a worktree's payload directory while an operation creates it (fork, create) or deletes
// it (remove): a held file .jvs/locks/claim-<host tag>.<pid>-<n>-<worktree>.lock taken before the directory is
// made (or its config removed) and dropped once the config says what the directory is. A payload
// directory without a config is then provably jvs's leftover only if a dead claim names it; doctor
// never removes one a user put there.
class PayloadClaim {
   public:
    static PayloadClaim take(const Repo &repo, const std::string &worktree, const std::string &op);

   private:
    explicit PayloadClaim(HeldFile f) : file_(std::move(f)) {}
    HeldFile file_;
};

struct ClaimFile {
    std::string path;
    std::string worktree;
    bool live = false;
};
std::vector<ClaimFile> list_payload_claims(const Repo &repo);

struct LeaseFile {
    std::string path;
    std::string snapshot_id;
    bool live = false;  // its holder is alive (the flock is held)
};
// Every lease file. Read leases before worktree configs: a lease is released only after the
// worktree config that references the snapshot was saved.
std::vector<LeaseFile> list_leases(const Repo &repo);
// Removes lease files whose holder is gone. Call only while holding the repository lock (leases are
// created under it, so a file seen unlocked cannot be one being created right now).
void remove_stale_leases(const Repo &repo);

}  // namespace jvs
