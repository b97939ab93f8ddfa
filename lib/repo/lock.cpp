#include "repo/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "format/gotime.hpp"
#include "repo/repo.hpp"
#include "util/context.hpp"
#include "util/error.hpp"

namespace jvs {

namespace {
std::string owner_record(const std::string &op) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    nlohmann::json j = {{"pid", ::getpid()}, {"host", host}, {"op", op}, {"since", format_rfc3339nano(now_utc())}};
    return j.dump() + "\n";
}

nlohmann::json read_owner(int fd) {
    char buf[1024];
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return nlohmann::json::object();
    auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
}
}  // namespace

FileLock FileLock::acquire(const std::string &path, int64_t timeout_ms, const std::string &op,
                           const std::string &what, OpContext *ctx) {
    FileLock lk;
    lk.fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!lk.fd_) fail_errno(errno, "open", path);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto backoff = std::chrono::milliseconds(1);
    for (;;) {
        if (::flock(lk.fd_.get(), LOCK_EX | LOCK_NB) == 0) break;
        if (errno != EWOULDBLOCK && errno != EINTR) fail_errno(errno, "flock", path);
        if (std::chrono::steady_clock::now() >= deadline) {
            nlohmann::json holder = read_owner(lk.fd_.get());
            std::string who = holder.contains("pid") ? " (held by pid " + holder["pid"].dump() +
                                                            (holder.contains("op") ? ", " + holder["op"].get<std::string>() : "") + ")"
                                                      : "";
            fail("E_LOCKED", what + " is locked by another writer" + who,
                 "wait for it to finish, or pass a longer lock_timeout_ms", {{"lock", path}, {"holder", holder}});
        }
        if (ctx) ctx->check_cancelled();
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
    }
    std::string rec = owner_record(op);
    if (::ftruncate(lk.fd_.get(), 0) == 0) {
        ssize_t ignored = ::pwrite(lk.fd_.get(), rec.data(), rec.size(), 0);
        (void)ignored;  // the owner record is informational only
    }
    return lk;
}

FileLock::~FileLock() {
    if (fd_) {
        // Clear the owner record so a later holder is never misreported, but leave the file in
        // place (unlinking would race with a waiter holding the old inode).
        if (::ftruncate(fd_.get(), 0) != 0) {
        }
        ::flock(fd_.get(), LOCK_UN);
    }
}

FileLock lock_worktree(const Repo &repo, const std::string &worktree, int64_t timeout_ms, const std::string &op,
                       OpContext *ctx) {
    // No lock file for a worktree that does not exist (forks claim their payload directory first).
    if (!repo.worktree_exists(worktree) && !exists_nofollow(repo.payload_path(worktree)))
        fail("E_WORKTREE_NOT_FOUND", "worktree '" + worktree + "' not found", "list worktrees with `jvs worktree list`",
             {{"worktree", worktree}});
    repo.ensure_private_dirs();
    return FileLock::acquire(path_join(repo.locks_dir(), "wt-" + worktree + ".lock"), timeout_ms, op,
                             "worktree '" + worktree + "'", ctx);
}

FileLock lock_repo(const Repo &repo, int64_t timeout_ms, const std::string &op, OpContext *ctx) {
    repo.ensure_private_dirs();
    return FileLock::acquire(path_join(repo.locks_dir(), "repo.lock"), timeout_ms, op, "repository", ctx);
}

}  // namespace jvs
