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
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "format/ids.hpp"
#include "ops/integrity.hpp"
#include "ops/ops.hpp"
#include "repo/manifest.hpp"
#include "repo/stat_cache.hpp"
#include "repo/snapshots.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

constexpr int64_t kForeignTempGraceSec = 3600;  // a younger .jvs-tmp-* file we cannot attribute may be in flight


bool ends_with(const std::string &s, const std::string &suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
bool starts_with(const std::string &s, const std::string &pre) { return s.rfind(pre, 0) == 0; }

// A worktree name we may build a lock path from: one read back from the repository (util/names).
bool sane_name(const std::string &n) { return is_stored_name(n); }

// What each repair does, for the repair plan (`dry_run`) and the result.
const char *repair_action(const std::string &id) {
    static const std::map<std::string, const char *> actions = {
        {"complete_snapshot", "update"},   {"rebuild_manifest", "rebuild"},   {"republish_snapshot", "republish"},
    };
    auto it = actions.find(id);
    return it == actions.end() ? "remove" : it->second;
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

    // Read-only probe: is some process holding the lock file at `path` right now?
    static bool lock_file_held(const std::string &path) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd) return false;
        if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) return true;
        ::flock(fd.get(), LOCK_UN);
        return false;
    }
    bool lock_held(const std::string &wt) const {
        if (!sane_name(wt)) return true;  // cannot tell: treat as live
        return lock_file_held(repo.worktree_lock_path(wt));
    }

    // Takes the lock at `path` without waiting; nullopt when a live owner holds it.
    std::optional<FileLock> try_lock_file(const std::string &path, const std::string &what) const {
        repo.ensure_private_dirs();
        try {
            return FileLock::acquire(path, 0, "doctor", what);
        } catch (const Error &e) {
            if (e.code == "E_LOCKED") return std::nullopt;
            throw;
        }
    }
    std::optional<FileLock> try_lock(const std::string &wt) const {
        if (!sane_name(wt)) return std::nullopt;
        return try_lock_file(repo.worktree_lock_path(wt), "worktree '" + wt + "'");
    }

    // One finding; with repair requested and a fix given, runs it. The fix returns "" when done, or
    // why it was left alone.
    void add(const std::string &code, const std::string &severity, const std::string &category,
             const std::string &message, const std::string &path = {}, const std::string &repair_id = {},
             const std::function<std::string()> &fix = {}) {
        Doc f = {{"code", code}, {"severity", severity}, {"category", category}, {"message", message}};
        if (!path.empty()) f["path"] = path;
        if (!repair_id.empty()) f["repair"] = repair_id;
        if (o.repair && o.dry_run && fix) {  // the plan: what would be done, nothing done
            repairs.push_back({{"id", repair_id}, {"path", path}, {"done", false}, {"action", repair_action(repair_id)}});
        } else if (o.repair && fix) {
            std::string why;
            try {
                why = fix();
            } catch (const Error &e) {
                why = e.code + ": " + e.message;
            }
            bool done = why.empty();
            f["repaired"] = done;
            Doc r = {{"id", repair_id}, {"path", path}, {"done", done}, {"action", repair_action(repair_id)}};
            if (!done) r["reason"] = why;
            repairs.push_back(r);
            if (done) repair_log.push_back({{"id", repair_id}, {"path", path}});
        }
        findings.push_back(std::move(f));
    }

    // Metadata naming a path, name or id that leads outside the repository (E_PATH_UNSAFE): crafted
    // or damaged; nothing acts on it, and doctor never repairs it by guessing.
    void add_unsafe(const std::string &what, const Error &e, const std::string &path, const std::string &repair_id = {},
                    const std::function<std::string()> &fix = {}) {
        add("path_unsafe", "critical", "integrity", what + ": " + e.message, path, repair_id, fix);
        findings.back()["error_code"] = "E_PATH_UNSAFE";
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
                if (e.code == "E_PATH_UNSAFE") add_unsafe("worktree '" + name + "'", e, cfg_path);
                else add("worktree_config_corrupt", "error", "worktree", "worktree '" + name + "': " + e.message, cfg_path);
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
                if (e.code == "E_PATH_UNSAFE") add_unsafe("snapshot " + id, e, dp);
                else add("descriptor_corrupt", "critical", "integrity", "snapshot " + id + ": " + e.message, dp);
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
            try {  // what the repairs below would join to directories
                check_stored_snapshot_id(id, "intent file name");
                if (!wt.empty()) check_stored_name(wt, "intent worktree_name");
            } catch (const Error &e) {
                add_unsafe("intent " + n, e, path);
                continue;
            }
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

    // ---- snapshots that lost their descriptor ----

    // What doctor can prove about a snapshot directory without a descriptor, and the descriptor it
    // would publish it with.
    struct Republish {
        std::optional<Descriptor> d;
        std::optional<std::string> new_ready;  // .READY rewritten when the checksum had to be recomputed
        Manifest manifest;
        std::string why_not;                   // set when it cannot be proven complete
        std::string rebuilt;                   // which fields had no source and how they were filled
    };

    // The last `snapshot_create` audit record of `id`, if the log has one.
    std::optional<AuditRecord> creation_record(const std::string &id) const {
        auto raw = read_file_if_exists(repo.audit_path());
        if (!raw) return std::nullopt;
        std::optional<AuditRecord> found;
        size_t pos = 0;
        while (pos < raw->size()) {
            size_t nl = raw->find('\n', pos);
            if (nl == std::string::npos) nl = raw->size();
            std::string_view line(raw->data() + pos, nl - pos);
            pos = nl + 1;
            if (line.find(id) == std::string_view::npos) continue;  // cheap filter before parsing
            auto rec = parse_audit_line(line);
            if (rec && rec->event_type == "snapshot_create" && rec->snapshot_id == id) found = std::move(rec);
        }
        return found;
    }

    // .READY's five fields, when it is a marker of snapshot `id`; else why not.
    static std::optional<std::map<std::string, std::string>> read_ready(const std::string &dir, const std::string &id,
                                                                        std::string *why) {
        auto no = [why](const char *reason) {
            *why = reason;
            return std::nullopt;
        };
        auto raw = read_file_if_exists(path_join(dir, ".READY"));
        if (!raw) return no("it has no .READY marker, so nothing says it was ever complete");
        auto j = nlohmann::json::parse(*raw, nullptr, false);
        std::map<std::string, std::string> ready;
        for (const char *k : {"snapshot_id", "completed_at", "payload_root_hash", "engine", "descriptor_checksum"}) {
            if (!j.is_object() || !j.contains(k) || !j[k].is_string()) return no(".READY is malformed");
            ready[k] = j[k].get<std::string>();
        }
        if (ready["snapshot_id"] != id || !parse_rfc3339(ready["completed_at"])) return no(".READY describes another snapshot");
        return ready;
    }

    // The descriptor's fields and their sources: snapshot_id, engine, payload_root_hash and (the target)
    // descriptor_checksum from .READY; worktree_name, note and partial_paths from the audit record
    // (both tools write them); created_at, parent_id and tags from the record's details (jvs writes
    // them there; for the Go tool's snapshots created_at falls back to .READY's completed_at and the
    // others stay empty); integrity_state "verified".
    static Descriptor rebuild_descriptor(const std::string &id, std::map<std::string, std::string> &ready,
                                         const AuditRecord &rec, std::vector<std::string> &guessed) {
        Descriptor d;
        d.snapshot_id = id;
        d.worktree_name = rec.worktree_name;
        d.engine = ready["engine"];
        d.payload_root_hash = ready["payload_root_hash"];
        d.integrity_state = "verified";
        const nlohmann::json &det = rec.details;
        auto str_of = [&](const char *k) { return det.contains(k) && det[k].is_string() ? det[k].get<std::string>() : std::string(); };
        auto list_of = [&](const char *k) {
            std::vector<std::string> v;
            if (det.contains(k) && det[k].is_array())
                for (const auto &x : det[k])
                    if (x.is_string()) v.push_back(x.get<std::string>());
            return v;
        };
        d.note = str_of("note");
        d.partial_paths = list_of("partial_paths");
        d.parent_id = str_of("parent_id");
        d.tags = list_of("tags");
        auto created = parse_rfc3339(str_of("created_at"));
        d.created_at = created ? *created : *parse_rfc3339(ready["completed_at"]);
        if (!created) guessed.push_back("created_at (from .READY's completed_at), parent_id and tags (not recorded)");
        return d;
    }

    // Whether a snapshot directory without a descriptor is a complete snapshot, provably: its .READY
    // names it, an audit record says where it came from, and its files hash to the marker's
    // payload_root_hash. When the rebuilt fields reproduce the marker's checksum the descriptor is the
    // original, byte for byte; otherwise the checksum is recomputed and .READY rewritten to match.
    Republish plan_republish(const std::string &id, const std::string &dir) {
        Republish p;
        auto no = [&p](std::string why) {
            p.why_not = std::move(why);
            return p;
        };
        if (!is_snapshot_id(id)) return no("its name is not a snapshot id");
        std::string why;
        auto ready = read_ready(dir, id, &why);
        if (!ready) return no(why);
        auto rec = creation_record(id);
        if (!rec) return no("no snapshot_create audit record names it, so its worktree is unknown");
        std::vector<std::string> guessed;
        Descriptor d = rebuild_descriptor(id, *ready, *rec, guessed);
        try {
            check_descriptor_paths(d);
            OpContext::Nested inner(ctx);  // still the `check` phase
            p.manifest = build_manifest_from_dir(dir, &ctx);
        } catch (const Error &e) {
            return no(e.code == "E_PATH_UNSAFE" ? "the rebuilt descriptor would be unsafe: " + e.message
                                                : "its files cannot be read: " + e.message);
        }
        if (manifest_root_hash(p.manifest) != d.payload_root_hash)
            return no("its files do not hash to .READY's payload_root_hash (incomplete or changed)");
        d.descriptor_checksum = descriptor_checksum(d);
        if (d.descriptor_checksum == (*ready)["descriptor_checksum"] && !check_ready_marker(dir, d)) {
            p.rebuilt = "the descriptor is rebuilt exactly (its checksum matches .READY)";
        } else {
            p.new_ready = ready_marker(d, *parse_rfc3339((*ready)["completed_at"]));
            p.rebuilt = "the descriptor is rebuilt with a new checksum and .READY rewritten to match";
            for (const auto &g : guessed) p.rebuilt += "; reconstructed: " + g;
        }
        p.d = std::move(d);
        return p;
    }

    void check_unpublished(const std::string &id, const std::string &dir) {
        Republish p = plan_republish(id, dir);
        if (!p.d) {
            add("snapshot_unpublished", "warning", "integrity",
                "snapshot directory without a descriptor, kept (doctor cannot prove it is debris): " + id + ": " + p.why_not,
                dir);
            return;
        }
        add("snapshot_unpublished", "warning", "integrity",
            "complete snapshot " + id + " (its .READY and files agree) has no descriptor: it can be published again; " +
                p.rebuilt,
            dir, "republish_snapshot", [this, id, dir, p]() -> std::string {
                if (snapshot_in_flight(id) || exists_nofollow(repo.intent_path(id))) return "in flight";
                if (exists_nofollow(repo.descriptor_path(id))) return "published meanwhile";
                if (exists_nofollow(tombstone_path(id))) return "gc is deleting it";
                if (p.new_ready) atomic_write(path_join(dir, ".READY"), *p.new_ready, 0644);
                write_manifest(repo.manifest_path(id), p.manifest);
                atomic_write(repo.descriptor_path(id), serialize_descriptor(*p.d), 0644);  // publish
                return "";
            });
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
            if (exists_nofollow(tombstone_path(n))) continue;  // gc is deleting it: gc_unfinished says so
            check_unpublished(n, path);
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
        std::string wroot = repo.worktrees_dir();
        for (const auto &n : dir_entries(wroot)) {
            std::string path = path_join(wroot, n);
            auto st = lstat_path(path);
            if (!st || !S_ISDIR(st->st_mode)) continue;
            if (ends_with(n, ".jvs-clone-tmp")) {
                // Named by the new worktree's token (repo.hpp), as its lock file is.
                std::string lock = path_join(repo.locks_dir(), "wt-" + n.substr(0, n.size() - 14) + ".lock");
                add("fork_staging_leftover", "warning", "tmp", "unfinished fork staging directory " + n, path,
                    "clean_fork_staging", [&, lock, path]() -> std::string {
                        auto lk = try_lock_file(lock, "the forked worktree");
                        if (!lk) return "in flight: the forked worktree is locked";
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
        // Caches and lock files are named by worktree tokens (repo.hpp): one of a name no worktree
        // or payload directory has belongs to a worktree that is gone.
        std::set<std::string> known;
        for (const auto &n : repo.worktree_names()) known.insert(worktree_token(n));
        for (const auto &n : dir_entries(wroot))
            if (is_directory(path_join(wroot, n))) known.insert(worktree_token(n));  // payloads: reported above
        for (const auto &n : dir_entries(repo.cache_dir())) {
            if (!ends_with(n, ".stat") || starts_with(n, ".")) continue;
            std::string token = n.substr(0, n.size() - 5);
            if (known.count(token)) continue;
            std::string path = path_join(repo.cache_dir(), n);
            std::string lock = path_join(repo.locks_dir(), "wt-" + token + ".lock");
            add("stat_cache_orphan", "warning", "cache", "stat cache of a worktree that does not exist: " + token, path,
                "remove_orphan_cache", [&, lock, path]() -> std::string {
                    auto lk = try_lock_file(lock, "the cache's worktree");
                    if (!lk) return "in flight: its worktree is locked";
                    ::unlink(path.c_str());
                    return "";
                });
        }
        for (const auto &n : dir_entries(repo.locks_dir())) {
            if (!starts_with(n, "wt-") || !ends_with(n, ".lock") || n.size() <= 8) continue;
            if (known.count(n.substr(3, n.size() - 8))) continue;
            std::string path = path_join(repo.locks_dir(), n);
            add("lock_orphan", "info", "worktree", "lock file of a worktree that does not exist: " + n, path,
                "remove_orphan_lock", [&, path]() -> std::string {
                    auto lk = try_lock_file(path, "a removed worktree");
                    if (!lk) return "in flight: an operation holds it";
                    lk->unlink_file();
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

    // `.jvs-tmp-restore-*` files inside worktrees (restore/fork writes that died before their rename),
    // found by walking each worktree from directory descriptors (any depth: a path too long for the
    // kernel to resolve in one go is walked one component at a time, and reported, since jvs cannot
    // store it). Only names our own restore code creates are touched.
    struct WorktreeWalk {
        std::vector<std::string> temps;  // relative paths
        std::string too_long;            // the first path longer than kPathMax
        uint64_t too_long_count = 0;
    };

    void walk_worktree(const Dir &dir, const std::string &rel, WorktreeWalk &w) const {
        for (const auto &n : dir.list()) {
            std::string child = rel.empty() ? n : rel + "/" + n;
            if (repo.is_control_rel(child)) continue;  // an adopted repository's own .jvs
            if (child.size() > kPathMax) {
                if (w.too_long_count++ == 0) w.too_long = child;
                continue;
            }
            struct stat st {};
            if (::fstatat(dir.fd(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            if (starts_with(n, ".jvs-tmp-restore-") && !S_ISDIR(st.st_mode)) {
                w.temps.push_back(child);
            } else if (S_ISDIR(st.st_mode)) {
                std::optional<Dir> sub;
                try {
                    sub = dir.dir_if_exists(n);  // beneath: a directory swapped for a symlink is not followed
                } catch (const Error &) {
                    continue;  // changed meanwhile: nothing to report there
                }
                if (sub) walk_worktree(*sub, child, w);
            }
        }
    }

    void check_restore_temps() {
        for (const auto &wt : repo.worktree_names()) {
            std::string payload = repo.payload_path(wt);
            WorktreeWalk w;
            try {
                auto root = Dir::open_root_if_exists(payload);
                if (!root) continue;
                walk_worktree(*root, "", w);
            } catch (const Error &e) {  // a directory swapped meanwhile, unreadable: report, go on
                if (!is_directory(payload)) continue;  // not a directory: reported by check_worktrees
                add("worktree_unreadable", "warning", "worktree", "worktree '" + wt + "' could not be walked: " + e.message,
                    payload);
                continue;
            }
            if (w.too_long_count)
                add("path_too_long", "warning", "worktree",
                    "worktree '" + wt + "' holds " + std::to_string(w.too_long_count) + " path(s) longer than " +
                        std::to_string(kPathMax) + " bytes, which no snapshot can store (first: " +
                        w.too_long.substr(0, 200) + "...)",
                    payload);
            if (w.temps.empty()) continue;
            if (lock_held(wt)) {
                add("restore_in_flight", "info", "tmp", "worktree '" + wt + "' is being written", payload);
                continue;
            }
            for (const auto &rel : w.temps)
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
            if (!try_load_descriptor(repo, id)) continue;  // reported as descriptor_corrupt or path_unsafe
            try {
                if (read_trusted_manifest(repo, id)) continue;
            } catch (const Error &e) {  // E_PATH_UNSAFE: restore, fork and diff refuse the snapshot until rebuilt
                add_unsafe("manifest of snapshot " + id, e, path, "rebuild_manifest", rebuild_manifest(id, path));
                continue;
            }
            add("manifest_mismatch", "warning", "cache",
                "manifest of snapshot " + id + " does not describe the snapshot its descriptor vouches for", path,
                "rebuild_manifest", rebuild_manifest(id, path));
        }
    }

    std::function<std::string()> rebuild_manifest(const std::string &id, const std::string &path) {
        return [this, id, path]() -> std::string {
            // Nothing else writes a published snapshot's manifest; repairs run under the repository
            // lock, and readers see the old or the new file (atomic replace).
            Descriptor d = load_descriptor(repo, id);
            OpContext::Nested inner(ctx);  // still the `check` phase
            Manifest m = build_manifest_from_dir(repo.snapshot_dir(id), &ctx);
            if (manifest_root_hash(m) != d.payload_root_hash)
                return "the snapshot's files do not match its descriptor either: run `jvs verify " + id + "`";
            write_manifest(path, m);
            return "";
        };
    }

    // The stat cache decides which files a snapshot reads: an entry that still matches its file's
    // stat but holds another hash (edited by hand, or a bug) would make the next snapshot store, or
    // link, stale content. Strict mode checks the entries that would be trusted right now against the
    // files themselves: a random sample of kCacheSample per worktree, or all (cache_check).
    static constexpr size_t kCacheSample = 64;

    std::function<std::string()> drop_stat_cache(const std::string &wt, const std::string &path) {
        return [this, wt, path]() -> std::string {
            auto lk = try_lock(wt);
            if (!lk) return "in flight: worktree '" + wt + "' is locked";
            if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail_errno(errno, "unlink", path);
            return "";
        };
    }

    // Paths of the entries in `items` that `cache` trusts for the file beneath `root` but whose
    // content hashes differ (files changing while read are skipped: they prove nothing).
    static std::vector<std::string> poisoned_entries(const Dir &root, const StatCache &cache,
                                                     const std::vector<StatCache::Item> &items) {
        std::vector<std::string> bad;
        for (const auto &it : items) {
            try {
                auto st = root.lstat(it.rel);
                if (!st || !S_ISREG(st->st_mode) || !cache.lookup(it.rel, *st)) continue;
                struct stat opened {};
                UniqueFd fd = root.open_regular(it.rel, &opened);
                std::string hash = sha256_fd(fd.get(), root.display(it.rel));
                struct stat after {};
                if (::fstat(fd.get(), &after) != 0 || !(StatKey::of(after) == StatKey::of(*st))) continue;
                if (hash != it.hash) bad.push_back(it.rel);
            } catch (const Error &) {
                // Unreadable, replaced by a symlink, a special file: not an entry any snapshot trusts.
            }
        }
        return bad;
    }

    void check_stat_caches() {
        if (o.cache_check == "none") return;
        for (const auto &wt : repo.worktree_names()) {
            std::string path = repo.stat_cache_path(wt);
            if (!sane_name(wt) || !exists_nofollow(path)) continue;
            std::string problem;
            StatCache cache = StatCache::load(path, &problem);
            if (!problem.empty()) {
                add("stat_cache_invalid", "warning", "cache",
                    "stat cache of worktree '" + wt + "' is ignored by every operation: " + problem, path,
                    "remove_stat_cache", drop_stat_cache(wt, path));
                continue;
            }
            std::optional<Dir> root;
            try {
                root = Dir::open_root_if_exists(repo.payload_path(wt));
            } catch (const Error &) {
            }
            if (!root) continue;
            std::vector<StatCache::Item> items = cache.items();
            if (o.cache_check == "sample" && items.size() > kCacheSample) {
                std::vector<StatCache::Item> picked;
                std::sample(items.begin(), items.end(), std::back_inserter(picked), kCacheSample,
                            std::mt19937_64{std::random_device{}()});
                items = std::move(picked);
            }
            std::vector<std::string> bad = poisoned_entries(*root, cache, items);
            if (bad.empty()) continue;
            add("stat_cache_poisoned", "error", "cache",
                std::to_string(bad.size()) + " entr" + (bad.size() == 1 ? "y" : "ies") + " of worktree '" + wt +
                    "''s stat cache vouch for content its files do not have (e.g. " + bad[0] +
                    "): the next snapshot would store stale content",
                path, "remove_stat_cache", drop_stat_cache(wt, path));
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
    if (o.repair && !o.dry_run) {  // a repair plan changes nothing: no lock, works on a read-only mount
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
    if (o.strict) {
        d.check_integrity();
        d.check_stat_caches();
    }

    bool healthy = true;
    for (const auto &f : d.findings) {
        std::string sev = f["severity"];
        if ((sev == "critical" || sev == "error") && !f.value("repaired", false)) healthy = false;
    }
    Doc doc = make_doc("doctor");
    doc["healthy"] = healthy;
    doc["strict"] = o.strict;
    doc["dry_run"] = o.repair && o.dry_run;
    doc["findings"] = std::move(d.findings);
    doc["repairs"] = std::move(d.repairs);
    if (!d.repair_log.empty()) audit(s.repo, doc, "repair", "", "", {{"repairs", d.repair_log}});
    return doc;
}

}  // namespace jvs
