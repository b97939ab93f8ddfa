// jvs_doctor: find (and with `repair`, fix) what interrupted operations leave behind, plus lineage,
// format and (with `strict`) full integrity checks. Repairs touch only what is provably stale: an item
// tied to a worktree is removed only while doctor itself holds that worktree's lock (timeout 0: a live
// owner means the operation is in flight and the item is left alone), never a published snapshot,
// never a user file.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <set>

#include "ops/integrity.hpp"
#include "ops/ops.hpp"
#include "repo/manifest.hpp"
#include "repo/snapshots.hpp"
#include "util/error.hpp"
#include "util/beneath.hpp"
#include "util/fs.hpp"

namespace jvs {

namespace {

constexpr int64_t kForeignTempGraceSec = 3600;  // a younger .jvs-tmp-* file we cannot attribute may be in flight


bool ends_with(const std::string &s, const std::string &suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
bool starts_with(const std::string &s, const std::string &pre) { return s.rfind(pre, 0) == 0; }

// A worktree name we may build a lock path from.
bool sane_name(const std::string &n) {
    return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos && n.find('\0') == std::string::npos;
}

struct Doctor {
    Doctor(const Session &s_, const DoctorOptions &o_, OpContext &c_) : s(s_), repo(s_.repo), o(o_), ctx(c_) {}
    const Session &s;
    const Repo &repo;
    const DoctorOptions &o;
    OpContext &ctx;
    Doc findings = Doc::array();
    Doc repairs = Doc::array();
    Doc repair_log = Doc::array();  // what the audit record lists

    std::string lock_path(const std::string &wt) const { return path_join(repo.locks_dir(), "wt-" + wt + ".lock"); }

    // Read-only probe: is some process holding the worktree's lock right now?
    bool lock_held(const std::string &wt) const {
        if (!sane_name(wt)) return true;  // cannot tell: treat as live
        UniqueFd fd(::open(lock_path(wt).c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) return false;
        if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) return true;
        ::flock(fd.get(), LOCK_UN);
        return false;
    }

    // Takes the worktree lock without waiting; nullopt when a live owner holds it.
    std::optional<FileLock> try_lock(const std::string &wt) const {
        if (!sane_name(wt)) return std::nullopt;
        repo.ensure_private_dirs();
        try {
            return FileLock::acquire(lock_path(wt), 0, "doctor", "worktree '" + wt + "'");
        } catch (const Error &e) {
            if (e.code == "E_LOCKED") return std::nullopt;
            throw;
        }
    }

    // One finding; with repair requested and a fix given, runs it. The fix returns "" when done, or
    // why it was left alone.
    void add(const std::string &code, const std::string &severity, const std::string &category,
             const std::string &message, const std::string &path = {}, const std::string &repair_id = {},
             const std::function<std::string()> &fix = {}) {
        Doc f = {{"code", code}, {"severity", severity}, {"category", category}, {"message", message}};
        if (!path.empty()) f["path"] = path;
        if (!repair_id.empty()) f["repair"] = repair_id;
        if (o.repair && fix) {
            std::string why;
            try {
                why = fix();
            } catch (const Error &e) {
                why = e.code + ": " + e.message;
            }
            bool done = why.empty();
            f["repaired"] = done;
            Doc r = {{"id", repair_id}, {"path", path}, {"done", done}};
            if (!done) r["reason"] = why;
            repairs.push_back(r);
            if (done) repair_log.push_back({{"id", repair_id}, {"path", path}});
        }
        findings.push_back(std::move(f));
    }

    bool published(const std::string &id) const { return is_published(repo, id); }

    std::string tombstone_path(const std::string &id) const { return gc_tombstone_path(repo, id); }

    // ---- checks ----

    // A gc run that died between marking and deleting: the marked snapshots are still whole (a
    // snapshot is unpublished before its files go); `gc run <plan_id>` finishes the job.
    void check_gc() {
        std::string dir = gc_tombstones_dir(repo);
        std::map<std::string, int> marked_by_plan;
        for (const auto &n : dir_entries(dir)) {
            if (!ends_with(n, ".json") || starts_with(n, ".")) continue;
            auto raw = read_file_if_exists(path_join(dir, n));
            auto j = raw ? nlohmann::json::parse(*raw, nullptr, false) : nlohmann::json();
            if (!j.is_object() || j.value("gc_state", std::string()) != "marked") continue;
            std::string id = n.substr(0, n.size() - 5);
            if (!exists_nofollow(repo.descriptor_path(id)) && !exists_nofollow(repo.snapshot_dir(id))) continue;
            marked_by_plan[j.value("plan_id", std::string())]++;
        }
        for (const auto &[plan, n] : marked_by_plan)
            add("gc_unfinished", "info", "gc",
                "gc run " + plan + " was interrupted: " + std::to_string(n) +
                    " marked snapshot(s) remain; run `jvs gc run " + plan + "` to finish",
                dir);
    }

    void check_format() {
        std::string p = path_join(repo.jvs_dir(), "format_version");
        auto raw = read_file_if_exists(p);
        std::string v = raw ? *raw : "";
        while (!v.empty() && isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
        while (!v.empty() && isspace(static_cast<unsigned char>(v.front()))) v.erase(v.begin());
        if (!raw) add("format_version_missing", "critical", "format", "format_version is missing", p);
        else if (v != std::to_string(kFormatVersion))
            add("format_version_invalid", "critical", "format",
                "format_version is '" + v + "', this jvs reads version " + std::to_string(kFormatVersion), p);
    }

    void check_worktrees() {
        std::string meta = path_join(repo.jvs_dir(), "worktrees");
        for (const auto &name : dir_entries(meta)) {
            std::string dir = path_join(meta, name);
            if (starts_with(name, ".jvs-tmp-") || !is_directory(dir)) continue;
            std::string cfg_path = path_join(dir, "config.json");
            if (!exists_nofollow(cfg_path)) {
                // A fork that died before publishing its config, or a remove that died while deleting it.
                add("worktree_config_missing", "warning", "worktree",
                    "worktree directory without config.json: '" + name + "'", dir, "remove_worktree_leftover",
                    [&, name, dir]() -> std::string {
                        auto lk = try_lock(name);
                        if (!lk) return "in flight: worktree '" + name + "' is locked";
                        if (exists_nofollow(path_join(dir, "config.json"))) return "config appeared";
                        remove_tree(dir);
                        return "";
                    });
                continue;
            }
            WorktreeConfig cfg;
            try {
                cfg = repo.load_worktree(name);
            } catch (const Error &e) {
                add("worktree_config_corrupt", "error", "worktree", "worktree '" + name + "': " + e.message, cfg_path);
                continue;
            }
            std::string payload = repo.payload_path(name);
            if (!is_directory(payload))
                add("worktree_payload_missing", "error", "worktree",
                    "payload directory of worktree '" + name + "' is missing", payload);
            for (const auto &[what, id] : {std::pair<const char *, std::string>{"base", cfg.base_snapshot_id},
                                           {"head", cfg.head_snapshot_id},
                                           {"latest", cfg.latest_snapshot_id}}) {
                if (!id.empty() && !published(id))
                    add("worktree_ref_missing", "error", "lineage",
                        "worktree '" + name + "': " + what + " " + id + " is not a published snapshot", cfg_path);
            }
        }
    }

    std::set<std::string> descriptor_ids() const {
        std::set<std::string> ids;
        for (const auto &n : dir_entries(repo.descriptors_dir()))
            if (ends_with(n, ".json") && !starts_with(n, ".")) ids.insert(n.substr(0, n.size() - 5));
        return ids;
    }

    void check_lineage() {
        std::map<std::string, std::string> parent;  // id -> parent ("" none)
        for (const auto &id : descriptor_ids()) {
            std::string dp = repo.descriptor_path(id);
            Descriptor d;
            try {
                d = load_descriptor(repo, id);
            } catch (const Error &e) {
                add("descriptor_corrupt", "critical", "integrity", "snapshot " + id + ": " + e.message, dp);
                continue;
            }
            parent[id] = d.parent_id;
            if (!is_directory(repo.snapshot_dir(id)))
                add("snapshot_payload_missing", "critical", "integrity",
                    "published snapshot " + id + " has no payload directory", repo.snapshot_dir(id));
        }
        for (const auto &[id, p] : parent) {
            if (p.empty() || parent.count(p)) continue;
            if (exists_nofollow(tombstone_path(p)))  // collected by gc: lineage ends there by design
                add("parent_collected", "info", "lineage",
                    "snapshot " + id + ": parent " + p + " was removed by gc", repo.descriptor_path(id));
            else
                add("parent_missing", "warning", "lineage", "snapshot " + id + ": parent " + p + " does not exist",
                    repo.descriptor_path(id));
        }
        // Cycles: walk each chain once; a node met again on the current walk closes a cycle.
        std::map<std::string, int> state;  // 1 on the current walk, 2 done
        for (const auto &[start, _] : parent) {
            std::vector<std::string> walk;
            std::string cur = start;
            while (!cur.empty() && parent.count(cur) && !state.count(cur)) {
                state[cur] = 1;
                walk.push_back(cur);
                cur = parent[cur];
            }
            if (!cur.empty() && state.count(cur) && state[cur] == 1)
                add("lineage_cycle", "error", "lineage", "parent chain of snapshot " + cur + " loops back to itself",
                    repo.descriptor_path(cur));
            for (const auto &w : walk) state[w] = 2;
        }
    }

    // Removes what an interrupted snapshot `id` built, keeping anything published.
    void clean_snapshot_leftovers(const std::string &id) const {
        remove_tree(repo.snapshot_dir(id) + ".tmp");
        if (!exists_nofollow(repo.descriptor_path(id))) {
            remove_tree(repo.snapshot_dir(id));
            ::unlink(repo.manifest_path(id).c_str());
        }
    }

    // An item of snapshot `id` (tmp dir, unpublished dir, manifest) is stale when its snapshot is not
    // in flight: no intent names it, or the intent's worktree lock is free.
    bool snapshot_in_flight(const std::string &id) const {
        auto raw = read_file_if_exists(repo.intent_path(id));
        if (!raw) return false;
        auto j = nlohmann::json::parse(*raw, nullptr, false);
        if (!j.is_object() || !j.contains("worktree_name") || !j["worktree_name"].is_string()) return false;
        return lock_held(j["worktree_name"].get<std::string>());
    }

    std::set<std::string> intent_ids;

    void check_intents() {
        for (const auto &n : dir_entries(repo.intents_dir())) {
            if (!ends_with(n, ".json") || starts_with(n, ".")) continue;
            std::string id = n.substr(0, n.size() - 5);
            std::string path = path_join(repo.intents_dir(), n);
            intent_ids.insert(id);
            auto raw = read_file_if_exists(path);
            auto j = raw ? nlohmann::json::parse(*raw, nullptr, false) : nlohmann::json();
            std::string wt = j.is_object() && j.contains("worktree_name") && j["worktree_name"].is_string()
                                 ? j["worktree_name"].get<std::string>()
                                 : "";
            if (!wt.empty() && lock_held(wt)) {
                add("intent_in_flight", "info", "intent", "snapshot " + id + " is being written (worktree '" + wt + "')",
                    path);
                continue;
            }
            if (published(id)) {
                // Died after the publish point: the snapshot is complete; only the worktree pointers
                // (if they were not updated yet) and the intent remain to finish.
                add("snapshot_unfinished", "warning", "intent",
                    "snapshot " + id + " was published but its operation did not finish", path, "complete_snapshot",
                    [&, id, wt, path]() -> std::string {
                        std::optional<FileLock> lk;
                        if (!wt.empty()) {
                            lk = try_lock(wt);
                            if (!lk) return "in flight: worktree '" + wt + "' is locked";
                        }
                        if (!wt.empty() && repo.worktree_exists(wt)) {
                            WorktreeConfig cfg = repo.load_worktree(wt);
                            Descriptor d = load_descriptor(repo, id);
                            std::string expected_parent =
                                !cfg.head_snapshot_id.empty() ? cfg.head_snapshot_id : cfg.base_snapshot_id;
                            // Roll forward only if nothing moved the worktree since the snapshot began.
                            if (!cfg.detached() && cfg.head_snapshot_id != id && d.parent_id == expected_parent &&
                                d.worktree_name == wt) {
                                cfg.head_snapshot_id = cfg.latest_snapshot_id = id;
                                repo.save_worktree(cfg);
                            }
                        }
                        ::unlink(path.c_str());
                        return "";
                    });
                continue;
            }
            add("intent_stale", "warning", "intent",
                "interrupted snapshot " + id + (wt.empty() ? "" : " of worktree '" + wt + "'") +
                    ": nothing was published",
                path, "clean_intent", [&, id, wt, path]() -> std::string {
                    std::optional<FileLock> lk;
                    if (!wt.empty()) {
                        lk = try_lock(wt);
                        if (!lk) return "in flight: worktree '" + wt + "' is locked";
                    }
                    clean_snapshot_leftovers(id);
                    ::unlink(path.c_str());
                    return "";
                });
        }
    }

    void check_snapshot_leftovers() {
        std::set<std::string> descs = descriptor_ids();
        for (const auto &n : dir_entries(repo.snapshots_dir())) {
            std::string path = path_join(repo.snapshots_dir(), n);
            if (starts_with(n, ".jvs-tmp-")) continue;  // swept with the other temp files
            if (ends_with(n, ".tmp")) {
                std::string id = n.substr(0, n.size() - 4);
                if (intent_ids.count(id)) continue;  // handled with its intent
                add("snapshot_tmp_leftover", "warning", "tmp", "unfinished snapshot directory " + n, path, "clean_tmp",
                    [&, id, path]() -> std::string {
                        if (snapshot_in_flight(id)) return "in flight";
                        remove_tree(path);
                        return "";
                    });
                continue;
            }
            if (!is_directory(path) || descs.count(n) || intent_ids.count(n)) continue;
            add("snapshot_unpublished", "warning", "tmp", "snapshot directory without a descriptor: " + n, path,
                "remove_unpublished_snapshot", [&, n, path]() -> std::string {
                    if (snapshot_in_flight(n)) return "in flight";
                    if (exists_nofollow(repo.descriptor_path(n))) return "published meanwhile";
                    remove_tree(path);
                    ::unlink(repo.manifest_path(n).c_str());
                    return "";
                });
        }
        for (const auto &n : dir_entries(repo.manifests_dir())) {
            if (starts_with(n, ".")) continue;
            std::string path = repo.manifest_path(n);
            if (descs.count(n) || intent_ids.count(n) || is_directory(repo.snapshot_dir(n))) continue;
            add("manifest_orphan", "warning", "cache", "manifest of a snapshot that does not exist: " + n, path,
                "remove_orphan_manifest", [&, n, path]() -> std::string {
                    if (snapshot_in_flight(n)) return "in flight";
                    if (exists_nofollow(repo.descriptor_path(n))) return "published meanwhile";
                    ::unlink(path.c_str());
                    return "";
                });
        }
    }

    // Payload directories under R/worktrees/ with no config: an interrupted fork (the claimed
    // directory) or an interrupted remove (the config goes first). Also fork clone staging dirs and
    // stat caches of worktrees that do not exist.
    void check_worktree_leftovers() {
        std::string wroot = path_join(repo.root(), "worktrees");
        for (const auto &n : dir_entries(wroot)) {
            std::string path = path_join(wroot, n);
            auto st = lstat_path(path);
            if (!st || !S_ISDIR(st->st_mode)) continue;
            if (ends_with(n, ".jvs-clone-tmp")) {
                std::string wt = n.substr(0, n.size() - 14);
                add("fork_staging_leftover", "warning", "tmp", "unfinished fork staging directory " + n, path,
                    "clean_fork_staging", [&, wt, path]() -> std::string {
                        auto lk = try_lock(wt);
                        if (!lk) return "in flight: worktree '" + wt + "' is locked";
                        remove_tree(path);
                        return "";
                    });
                continue;
            }
            if (repo.worktree_exists(n) || !sane_name(n)) continue;
            Claims c = claims_of(n);
            if (c.live) {
                add("worktree_in_flight", "info", "worktree", "worktree '" + n + "' is being created or removed", path);
                continue;
            }
            // Ours only if a dead claim proves a jvs operation made (or was removing) it; an empty
            // directory holds nothing to lose. Anything else may be a user's: reported, never removed.
            if (c.dead.empty() && !dir_entries(path).empty()) {
                add("worktree_payload_unclaimed", "warning", "worktree",
                    "directory under worktrees/ that is no worktree and that no jvs operation left behind: " + n +
                        " (left alone: move it away if it is yours)",
                    path);
                continue;
            }
            add("worktree_payload_orphan", "warning", "worktree",
                "payload directory without a worktree (interrupted fork or remove): " + n, path,
                "remove_orphan_payload", [&, n, path]() -> std::string {
                    auto lk = try_lock(n);
                    if (!lk) return "in flight: worktree '" + n + "' is locked";
                    if (repo.worktree_exists(n)) return "worktree exists";
                    Claims now = claims_of(n);
                    if (now.live) return "in flight: a jvs operation claims it";
                    if (now.dead.empty() && !dir_entries(path).empty()) return "not left behind by jvs";
                    remove_tree(path);
                    ::unlink(repo.stat_cache_path(n).c_str());
                    for (const auto &p : now.dead) ::unlink(p.c_str());
                    return "";
                });
        }
        for (const auto &n : dir_entries(repo.cache_dir())) {
            if (!ends_with(n, ".stat") || starts_with(n, ".")) continue;
            std::string wt = n.substr(0, n.size() - 5);
            if (repo.worktree_exists(wt) || is_directory(repo.payload_path(wt))) continue;  // payload: reported above
            std::string path = path_join(repo.cache_dir(), n);
            add("stat_cache_orphan", "warning", "cache", "stat cache of a worktree that does not exist: " + wt, path,
                "remove_orphan_cache", [&, wt, path]() -> std::string {
                    auto lk = try_lock(wt);
                    if (!lk) return "in flight: worktree '" + wt + "' is locked";
                    if (repo.worktree_exists(wt)) return "worktree exists";
                    ::unlink(path.c_str());
                    return "";
                });
        }
    }

    struct Claims {
        bool live = false;
        std::vector<std::string> dead;  // paths of claims whose holder is gone
    };
    Claims claims_of(const std::string &wt) const {
        Claims c;
        for (const auto &cl : list_payload_claims(repo))
            if (cl.worktree == wt) {
                if (cl.live) c.live = true;
                else c.dead.push_back(cl.path);
            }
        return c;
    }

    // Dead claims with nothing left to prove: the operation got past its config (or its payload is
    // gone). The ones next to a payload without config are removed with that payload above.
    void check_claims() {
        for (const auto &cl : list_payload_claims(repo)) {
            if (cl.live) continue;
            bool orphan_payload = !repo.worktree_exists(cl.worktree) && is_directory(repo.payload_path(cl.worktree));
            if (orphan_payload) continue;
            add("claim_stale", "warning", "worktree",
                "claim of an interrupted operation on worktree '" + cl.worktree + "'", cl.path, "remove_stale_claim",
                [&, path = cl.path, wt = cl.worktree]() -> std::string {
                    for (const auto &again : list_payload_claims(repo))
                        if (again.path == path && again.live) return "in flight: its holder is running";
                    if (!repo.worktree_exists(wt) && is_directory(repo.payload_path(wt)))
                        return "its payload directory is still to be cleaned";
                    ::unlink(path.c_str());
                    return "";
                });
        }
    }

    // `.jvs-tmp-restore-*` files inside worktrees (restore/fork writes that died before their rename).
    // Only names our own restore code creates are touched.
    // Relative paths of the temp files below `dir` (`rel` inside the worktree), listed beneath the
    // worktree's root: a directory swapped for a symlink is not descended, never followed.
    static void scan_restore_temps(const Dir &dir, const std::string &rel, std::vector<std::string> &out, int depth) {
        if (depth > 256) return;
        for (const auto &n : dir.list()) {
            std::string child = rel.empty() ? n : rel + "/" + n;
            std::optional<struct stat> st;
            std::optional<Dir> sub;
            try {
                st = dir.lstat(n);
                if (st && S_ISDIR(st->st_mode) && !starts_with(n, ".jvs-tmp-restore-")) sub = dir.dir_if_exists(n);
            } catch (const Error &) {
                continue;  // changed meanwhile: nothing to report there
            }
            if (!st) continue;
            if (starts_with(n, ".jvs-tmp-restore-") && !S_ISDIR(st->st_mode)) out.push_back(child);
            else if (sub) scan_restore_temps(*sub, child, out, depth + 1);
        }
    }

    void check_restore_temps() {
        for (const auto &wt : repo.worktree_names()) {
            std::string payload = repo.payload_path(wt);
            std::optional<Dir> root;
            try {
                root = Dir::open_root_if_exists(payload);
            } catch (const Error &) {
                continue;  // not a directory (reported by check_worktrees)
            }
            if (!root) continue;
            std::vector<std::string> temps;
            scan_restore_temps(*root, "", temps, 0);
            if (temps.empty()) continue;
            if (lock_held(wt)) {
                add("restore_in_flight", "info", "tmp", "worktree '" + wt + "' is being written", payload);
                continue;
            }
            for (const auto &rel : temps)
                add("restore_tmp_leftover", "warning", "tmp", "temporary file of an interrupted restore",
                    path_join(payload, rel), "clean_restore_tmp", [&, wt, payload, rel]() -> std::string {
                        auto lk = try_lock(wt);
                        if (!lk) return "in flight: worktree '" + wt + "' is locked";
                        Dir::open_root(payload).unlink(rel);  // beneath the worktree, never through a link
                        return "";
                    });
        }
    }

    // `.jvs-tmp-*` temp files of atomic writes anywhere under .jvs/ (never snapshot payloads or locks).
    void check_temp_files(const std::string &dir, int depth) {
        if (depth > 3) return;
        for (const auto &n : dir_entries(dir)) {
            std::string p = path_join(dir, n);
            auto st = lstat_path(p);
            if (!st) continue;
            if (starts_with(n, ".jvs-tmp-") && n.size() > 9) {
                check_temp_file_at(p);
                continue;
            }
            if (!S_ISDIR(st->st_mode)) continue;
            if (depth == 0 && (n == "snapshots" || n == "locks")) {
                if (n == "snapshots")  // only its own level: snapshot contents are user data
                    for (const auto &m : dir_entries(p))
                        if (starts_with(m, ".jvs-tmp-") && m.size() > 9) check_temp_file_at(path_join(p, m));
                continue;
            }
            check_temp_files(p, depth + 1);
        }
    }

    // Stale when provably so: our own name carries the writer's host and pid, and that process is
    // gone. A name we did not make (the Go tool's, another host's) proves nothing; it is removed only
    // after kForeignTempGraceSec, far beyond any atomic write.
    static std::optional<std::string> temp_file_live(const std::string &p) {
        std::optional<bool> alive = temp_file_writer_alive(base_name(p));
        if (alive) return *alive ? std::optional<std::string>("its writer (process) is running") : std::nullopt;
        auto st = lstat_path(p);
        if (!st) return std::nullopt;
        int64_t age = static_cast<int64_t>(::time(nullptr)) - static_cast<int64_t>(st->st_mtime);
        if (age < kForeignTempGraceSec) return std::string("not written by this host's jvs and only ") +
                                                 std::to_string(age) + "s old";
        return std::nullopt;
    }

    void check_temp_file_at(const std::string &p) {
        if (auto live = temp_file_live(p)) {
            add("temp_file_recent", "info", "tmp", "temporary file of a write that may be in flight: " + *live, p);
            return;
        }
        add("temp_file_leftover", "warning", "tmp", "temporary file of an interrupted write", p, "clean_tmp",
            [p]() -> std::string {
                if (auto live = temp_file_live(p)) return "in flight: " + *live;
                remove_tree(p);
                return "";
            });
    }

    // Leases on snapshots (.jvs/locks/use-*.lock) whose holder died: they protect nothing any more.
    void check_leases() {
        for (const auto &l : list_leases(repo)) {
            if (l.live) {
                add("lease_in_flight", "info", "gc", "snapshot " + l.snapshot_id + " is being read by a running operation",
                    l.path);
                continue;
            }
            add("lease_stale", "warning", "gc", "lease of an interrupted operation on snapshot " + l.snapshot_id, l.path,
                "remove_stale_lease", [&, path = l.path]() -> std::string {
                    // Under doctor's repository lock no lease can be being created; re-probe the holder.
                    for (const auto &again : list_leases(repo))
                        if (again.path == path && again.live) return "in flight: its holder is running";
                    ::unlink(path.c_str());
                    return "";
                });
        }
    }

    // Cache/index consistency: a manifest must describe the tree its descriptor vouches for (restore,
    // diff and dedup trust it). A bad one is rebuilt from the snapshot directory when that directory
    // still matches the descriptor; otherwise the snapshot itself is damaged (strict: verify says so).
    void check_manifests() {
        for (const auto &id : descriptor_ids()) {
            std::string path = repo.manifest_path(id);
            if (!exists_nofollow(path) || !is_directory(repo.snapshot_dir(id))) continue;
            if (read_trusted_manifest(repo, id)) continue;
            if (!try_load_descriptor(repo, id)) continue;  // reported as descriptor_corrupt
            add("manifest_mismatch", "warning", "cache",
                "manifest of snapshot " + id + " does not describe the snapshot its descriptor vouches for", path,
                "rebuild_manifest", [&, id, path]() -> std::string {
                    // Nothing else writes a published snapshot's manifest; repairs run under the
                    // repository lock, and readers see the old or the new file (atomic replace).
                    Descriptor d = load_descriptor(repo, id);
                    Manifest m = build_manifest_from_dir(repo.snapshot_dir(id), &ctx);
                    if (manifest_root_hash(m) != d.payload_root_hash)
                        return "the snapshot's files do not match its descriptor either: run `jvs verify " + id + "`";
                    write_manifest(path, m);
                    return "";
                });
        }
    }

    void check_integrity() {
        VerifyOptions vo;
        vo.all = true;
        vo.payload = true;
        Doc v = op_verify(s, vo, ctx);
        for (const auto &r : v["results"]) {
            if (!r.contains("code")) continue;
            std::string id = r["snapshot_id"];
            bool tamper = r["tamper_detected"].get<bool>();
            Doc f = {{"code", "snapshot_invalid"}, {"severity", tamper ? "critical" : "error"}, {"category", "integrity"},
                     {"message", "snapshot " + id + ": " + r.value("error", std::string("invalid"))},
                     {"path", repo.snapshot_dir(id)}, {"error_code", r["code"]}};
            // A directory without a descriptor is already reported (with its repair) as unpublished.
            if (r["code"] == "E_DESCRIPTOR_CORRUPT" && !exists_nofollow(repo.descriptor_path(id))) continue;
            findings.push_back(std::move(f));
        }
        if (!v["audit"]["ok"].get<bool>())
            findings.push_back({{"code", "audit_chain_broken"}, {"severity", "critical"}, {"category", "audit"},
                                {"message", "audit log: " + v["audit"]["error"].get<std::string>()},
                                {"path", repo.audit_path()}, {"error_code", "E_AUDIT_CHAIN_BROKEN"}});
    }
};

}  // namespace

Doc op_doctor(const Session &s, const DoctorOptions &o, OpContext &ctx) {
    Doctor d(s, o, ctx);
    std::optional<FileLock> repo_lock;
    if (o.repair) {
        s.repo.ensure_private_dirs();
        repo_lock = lock_repo(s.repo, o.lock_timeout_ms, "doctor");
    }
    ctx.phase("check", 0);
    d.check_format();
    d.check_intents();  // first: repairs here also clear the tmp/dir/manifest of each stale intent
    d.check_snapshot_leftovers();
    d.check_worktree_leftovers();
    d.check_worktrees();
    d.check_lineage();
    d.check_restore_temps();
    d.check_temp_files(s.repo.jvs_dir(), 0);
    d.check_leases();
    d.check_claims();
    d.check_manifests();
    d.check_gc();
    if (o.strict) d.check_integrity();

    bool healthy = true;
    for (const auto &f : d.findings) {
        std::string sev = f["severity"];
        if ((sev == "critical" || sev == "error") && !f.value("repaired", false)) healthy = false;
    }
    Doc doc = make_doc("doctor");
    doc["healthy"] = healthy;
    doc["strict"] = o.strict;
    doc["findings"] = std::move(d.findings);
    doc["repairs"] = std::move(d.repairs);
    if (!d.repair_log.empty()) audit(s.repo, doc, "repair", "", "", {{"repairs", d.repair_log}});
    return doc;
}

}  // namespace jvs
