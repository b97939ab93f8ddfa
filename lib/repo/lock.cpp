#include "repo/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "format/gotime.hpp"
#include "format/ids.hpp"
#include "repo/repo.hpp"
#include "repo/snapshots.hpp"
#include "util/context.hpp"
#include "util/error.hpp"
#include "util/names.hpp"

namespace jvs {

namespace {
std::string owner_record(const std::string &op, const std::string &worktree = {}) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    nlohmann::json j = {{"pid", ::getpid()}, {"host", host}, {"op", op}, {"since", format_rfc3339nano(now_utc())}};
    if (!worktree.empty()) j["worktree"] = worktree;  // a long name's file name holds only its token
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json read_owner(int fd) {
    char buf[1024];
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return nlohmann::json::object();
    auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
}
// Whether `fd` is still the file at `path` (same device and inode).
bool still_linked(int fd, const std::string &path) {
    struct stat a {}, b {};
    return ::fstat(fd, &a) == 0 && ::lstat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
}  // namespace

FileLock FileLock::acquire(const std::string &path, int64_t timeout_ms, const std::string &op,
                           const std::string &what, OpContext *ctx) {
    FileLock lk;
    auto open_lock = [&] {
        lk.fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
        if (!lk.fd_) fail_errno(errno, "open", path);
    };
    lk.path_ = path;
    open_lock();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto backoff = std::chrono::milliseconds(1);
    for (;;) {
        if (::flock(lk.fd_.get(), LOCK_EX | LOCK_NB) == 0) {
            // A holder may unlink a lock file it no longer needs (a removed worktree's): then the
            // inode we locked is no longer the file at `path`, and a newcomer could lock another.
            if (still_linked(lk.fd_.get(), path)) break;
            open_lock();
            continue;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) fail_errno(errno, "flock", path);
        if (std::chrono::steady_clock::now() >= deadline) {
            nlohmann::json holder = read_owner(lk.fd_.get());
            std::string who = holder.contains("pid") ? " (held by pid " + holder["pid"].dump() +
                                                            (holder.contains("op") ? ", " + holder["op"].get<std::string>() : "") + ")"
                                                      : "";
            fail("E_LOCKED", what + " is locked by another writer" + who,
                 "retry later or raise the lock timeout (--lock-timeout / lock_timeout_ms)", {{"lock", path}, {"holder", holder}});
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
        // Clear the owner record so a later holder is never misreported. The file stays (unless
        // unlink_file() removed it): acquire() re-checks that the inode it locked is still linked.
        if (::ftruncate(fd_.get(), 0) != 0) {
        }
        ::flock(fd_.get(), LOCK_UN);
    }
}

void FileLock::unlink_file() {
    if (fd_ && !path_.empty() && still_linked(fd_.get(), path_)) ::unlink(path_.c_str());
}

FileLock lock_worktree(const Repo &repo, const std::string &worktree, int64_t timeout_ms, const std::string &op,
                       OpContext *ctx) {
    // No lock file for a worktree that does not exist (forks claim their payload directory first).
    if (!repo.worktree_exists(worktree) && !exists_nofollow(repo.payload_path(worktree)))
        fail("E_WORKTREE_NOT_FOUND", "worktree '" + worktree + "' not found", "list worktrees with `jvs worktree list`",
             {{"worktree", worktree}});
    repo.ensure_private_dirs();
    return FileLock::acquire(repo.worktree_lock_path(worktree), timeout_ms, op, "worktree '" + worktree + "'", ctx);
}

FileLock lock_repo(const Repo &repo, int64_t timeout_ms, const std::string &op, OpContext *ctx) {
    repo.ensure_private_dirs();
    return FileLock::acquire(path_join(repo.locks_dir(), "repo.lock"), timeout_ms, op, "repository", ctx);
}

// ---- snapshot leases ---------------------------------------------------------------------------

namespace {
constexpr const char *kLeasePrefix = "use-";
constexpr const char *kLeaseSuffix = ".lock";

// "use-<13 digits>-<8 hex>-<suffix>.lock" -> the snapshot id ("" if the name is not a lease's).
std::string lease_snapshot_id(const std::string &name) {
    const std::string pre = kLeasePrefix, suf = kLeaseSuffix;
    if (name.size() <= pre.size() + suf.size() || name.rfind(pre, 0) != 0 ||
        name.compare(name.size() - suf.size(), suf.size(), suf) != 0)
        return {};
    std::string rest = name.substr(pre.size());
    size_t first = rest.find('-');
    size_t second = first == std::string::npos ? first : rest.find('-', first + 1);
    std::string id = second == std::string::npos ? std::string() : rest.substr(0, second);
    return is_snapshot_id(id) ? id : std::string();  // a name that is not ours protects nothing
}

constexpr const char *kClaimPrefix = "claim-";

// "claim-<tag>.<pid>-<n>-<worktree>.lock" -> the worktree ("" if the name is not a claim's).
std::string claim_worktree(const std::string &name) {
    const std::string pre = kClaimPrefix, suf = kLeaseSuffix;
    if (name.size() <= pre.size() + suf.size() || name.rfind(pre, 0) != 0 ||
        name.compare(name.size() - suf.size(), suf.size(), suf) != 0)
        return {};
    std::string rest = name.substr(pre.size(), name.size() - pre.size() - suf.size());
    size_t first = rest.find('-');
    size_t second = first == std::string::npos ? first : rest.find('-', first + 1);
    std::string token = second == std::string::npos ? std::string() : rest.substr(second + 1);
    // A worktree name, or a long name's token (repo.hpp): anything else proves nothing.
    bool ok = is_stored_name(token) ||
              (token.size() == 200 && token[183] == '~' && is_stored_name(token.substr(0, 183)));
    return ok ? token : std::string();
}

std::vector<std::string> lease_names(const Repo &repo) {
    std::vector<std::string> out;
    for (auto &n : dir_entries(repo.locks_dir()))
        if (!lease_snapshot_id(n).empty()) out.push_back(std::move(n));
    return out;
}

bool held_by_someone(const std::string &path, bool *exists) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    *exists = static_cast<bool>(fd);
    return fd && ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0;
}

// "<host tag>.<pid>-<n>": unique among the hosts that share a repository, whose pids may coincide.
std::string unique_suffix() {
    static std::atomic<uint64_t> counter{0};
    return host_tag() + "." + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}
}  // namespace

HeldFile HeldFile::create(const std::string &path, const std::string &op, const std::string &worktree) {
    HeldFile h;
    h.path_ = path;
    h.fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!h.fd_) fail_errno(errno, "create", path);
    // Blocking: a reader probing held files may hold a shared flock for an instant.
    while (::flock(h.fd_.get(), LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::unlink(path.c_str());
        fail_errno(err, "flock", path);
    }
    std::string rec = owner_record(op, worktree);
    ssize_t ignored = ::pwrite(h.fd_.get(), rec.data(), rec.size(), 0);
    (void)ignored;  // the name and the flock are what count; the record names a long worktree name
    return h;
}

HeldFile::~HeldFile() {
    if (fd_ && !keep_) ::unlink(path_.c_str());
}

SnapshotLease SnapshotLease::take(const Repo &repo, const std::string &snapshot_id, const std::string &op,
                                  int64_t timeout_ms, OpContext *ctx) {
    FileLock repo_lock = lock_repo(repo, timeout_ms, op, ctx);
    if (!is_published(repo, snapshot_id))
        fail("E_REF_NOT_FOUND", "snapshot " + snapshot_id + " is no longer published (removed by gc?)",
             "list snapshots with `jvs history --all`", {{"snapshot_id", snapshot_id}});
    return SnapshotLease(HeldFile::create(
        path_join(repo.locks_dir(), kLeasePrefix + snapshot_id + "-" + unique_suffix() + kLeaseSuffix), op));
}

PayloadClaim PayloadClaim::take(const Repo &repo, const std::string &worktree, const std::string &op) {
    repo.ensure_private_dirs();
    return PayloadClaim(HeldFile::create(
        path_join(repo.locks_dir(), std::string(kClaimPrefix) + unique_suffix() + "-" + worktree_token(worktree) + kLeaseSuffix),
        op, worktree));
}

std::vector<ClaimFile> list_payload_claims(const Repo &repo) {
    std::vector<ClaimFile> out;
    for (const auto &n : dir_entries(repo.locks_dir())) {
        std::string token = claim_worktree(n);
        if (token.empty()) continue;
        ClaimFile c{path_join(repo.locks_dir(), n), token, false};
        bool exists = false;
        c.live = held_by_someone(c.path, &exists);
        if (!exists) continue;
        // The file name holds the worktree's token; the owner record its whole name.
        if (UniqueFd fd{::open(c.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)}) {
            nlohmann::json owner = read_owner(fd.get());
            if (owner.contains("worktree") && owner["worktree"].is_string()) {
                std::string name = owner["worktree"].get<std::string>();
                if (is_stored_name(name) && worktree_token(name) == token) c.worktree = name;
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<LeaseFile> list_leases(const Repo &repo) {
    std::vector<LeaseFile> out;
    for (const auto &n : lease_names(repo)) {
        LeaseFile l{path_join(repo.locks_dir(), n), lease_snapshot_id(n), false};
        bool exists = false;
        l.live = held_by_someone(l.path, &exists);
        if (exists) out.push_back(std::move(l));  // else released meanwhile
    }
    return out;
}

void remove_stale_leases(const Repo &repo) {
    for (const auto &l : list_leases(repo))
        if (!l.live) ::unlink(l.path.c_str());
}

}  // namespace jvs
