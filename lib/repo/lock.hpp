// Writer locks: flock(2) on files under .jvs/locks/. Each acquisition opens its own file
// description, so locks exclude other threads of this process as well as other processes, and the
// kernel releases them when the holder dies (no stale locks after a crash).
#pragma once
#include <string>

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

}  // namespace jvs
