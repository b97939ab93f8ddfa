// jvs gc: plan, run (mark with tombstones, then delete; resumable), and pins.
//
// Protected: every worktree's head, latest and base with all their ancestors (lineage), unexpired pins
// (.jvs/pins/*.json, the Go tool's format and place), snapshots an operation is writing (intents; their
// <id>.tmp directories are never candidates), and the retention policy. Candidates: published
// snapshots not protected, plus orphan snapshot directories (no descriptor, no intent, older than an
// hour). `run` re-checks the plan under the repository lock and refuses with E_GC_PLAN_MISMATCH when a
// candidate became protected or vanished without a tombstone of ours.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "format/gojson.hpp"
#include "format/gotime.hpp"
#include "format/ids.hpp"
#include "ops/integrity.hpp"
#include "ops/ops.hpp"
#include "repo/config.hpp"
#include "repo/lock.hpp"
#include "repo/refs.hpp"
#include "repo/snapshots.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/fault.hpp"
#include "util/beneath.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

using gojson::ordered;
constexpr int64_t kNs = 1000000000LL;
constexpr int64_t kOrphanMinAgeNs = 3600 * kNs;

std::string tombstones_dir(const Repo &r) { return gc_tombstones_dir(r); }
std::string tombstone_path(const Repo &r, const std::string &id) { return gc_tombstone_path(r, id); }
std::string pins_dir(const Repo &r) { return path_join(r.jvs_dir(), "pins"); }
std::string plan_path(const Repo &r, const std::string &id) { return path_join(gc_dir(r), id + ".json"); }

Timestamp add_ns(Timestamp t, int64_t ns) {
    int64_t total = t.unix_ns() + ns;
    Timestamp r;
    r.sec = total / kNs;
    r.nsec = static_cast<int32_t>(total % kNs);
    if (r.nsec < 0) r.nsec += kNs, r.sec -= 1;
    return r;
}


bool ends_with(const std::string &s, std::string_view suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// ---- pins ----------------------------------------------------------------------------------------

struct Pin {
    std::string file;
    std::string snapshot_id;
    std::string pinned_at;  // as written
    std::string reason;
    std::optional<Timestamp> expires_at;
    std::string expires_raw;
    bool expired = false;
};

std::vector<Pin> read_pins(const Repo &repo, const Timestamp &now) {
    std::vector<Pin> out;
    std::string dir = pins_dir(repo);
    for (const auto &n : dir_entries(dir)) {
        if (!ends_with(n, ".json")) continue;
        auto raw = read_file_if_exists(path_join(dir, n));
        if (!raw) continue;
        auto j = gojson::parse(*raw);
        if (!j || !j->is_object()) continue;  // malformed pins are ignored, as the Go tool does
        Pin p;
        p.file = path_join(dir, n);
        try {
            gojson::decode_struct(*j, {{"snapshot_id", [&](const ordered &v) { gojson::decode_string(v, p.snapshot_id); }},
                                       {"pinned_at", [&](const ordered &v) { gojson::decode_string(v, p.pinned_at); }},
                                       {"reason", [&](const ordered &v) { gojson::decode_string(v, p.reason); }},
                                       {"expires_at", [&](const ordered &v) { gojson::decode_string(v, p.expires_raw); }}});
        } catch (const gojson::DecodeError &) {
            continue;
        }
        if (!is_snapshot_id(p.snapshot_id)) continue;  // protects nothing; never joined to a path
        if (!p.pinned_at.empty() && !parse_rfc3339(p.pinned_at)) continue;
        if (!p.expires_raw.empty()) {
            p.expires_at = parse_rfc3339(p.expires_raw);
            if (!p.expires_at) continue;
            p.expired = *p.expires_at < now;
        }
        out.push_back(std::move(p));
    }
    std::sort(out.begin(), out.end(), [](const Pin &a, const Pin &b) {
        return a.snapshot_id != b.snapshot_id ? a.snapshot_id < b.snapshot_id : a.file < b.file;
    });
    return out;
}

ordered pin_json(const Pin &p, bool with_expired) {
    ordered j = {{"snapshot_id", p.snapshot_id}, {"pinned_at", p.pinned_at}};
    if (!p.reason.empty()) j["reason"] = p.reason;
    if (!p.expires_raw.empty()) j["expires_at"] = p.expires_raw;
    if (with_expired) j["expired"] = p.expired;
    return j;
}

// ---- retention -----------------------------------------------------------------------------------

// The Go tool never collects an unprotected snapshot younger than this (DefaultRetentionPolicy).
constexpr const char *kDefaultMinAge = "24h";

struct Retention {
    int64_t keep_last = 0;
    std::string keep_within;
    int64_t within_ns = 0;
    std::vector<std::string> keep_tags;
    std::string keep_min_age = "0";
    int64_t min_age_ns = 0;
    ordered to_json() const {
        return {{"keep_last", keep_last}, {"keep_within", keep_within}, {"keep_tags", keep_tags},
                {"keep_min_age", keep_min_age}};
    }
};

std::string duration_option(const std::string &key, const std::string &value) {
    if (!parse_duration(value))
        fail("E_OPTION_INVALID", key + " is not a duration: " + value,
             "use a duration such as \"0\", \"30m\", \"24h\", \"7d\" or \"2w\"", {{"key", key}});
    return value;
}

// Options over .jvs/config.yaml `retention` (validated when loaded: E_CONFIG_CORRUPT names the key)
// over the defaults (keep nothing extra, except what is younger than 24 hours).
Retention retention_for(const Repo &repo, const GcPlanOptions &o) {
    Retention r;
    const RetentionConfig rc = load_repo_config(repo).retention;
    if (rc.keep) r.keep_last = *rc.keep;
    r.keep_within = rc.within;
    if (rc.keep_tags) r.keep_tags = *rc.keep_tags;
    r.keep_min_age = rc.keep_min_age.empty() ? kDefaultMinAge : rc.keep_min_age;
    if (o.keep_last) r.keep_last = *o.keep_last;
    if (!o.keep_within.empty()) r.keep_within = duration_option("keep_within", o.keep_within);
    if (o.keep_tags_set) r.keep_tags = o.keep_tags;
    if (o.keep_min_age) r.keep_min_age = duration_option("keep_min_age", *o.keep_min_age);
    r.within_ns = r.keep_within.empty() ? 0 : *parse_duration(r.keep_within);
    r.min_age_ns = *parse_duration(r.keep_min_age);
    return r;
}

// ---- the protected set ---------------------------------------------------------------------------

struct Protection {
    std::map<std::string, std::vector<std::string>> reasons;  // id -> reasons, sorted by id
    std::set<std::string> in_flight;
    void add(const std::string &id, const char *why) {
        auto &v = reasons[id];
        if (std::find(v.begin(), v.end(), why) == v.end()) v.push_back(why);
    }
    bool has(const std::string &id) const { return reasons.count(id) != 0; }
    size_t count(const char *why) const {
        size_t n = 0;
        for (const auto &[id, v] : reasons) n += std::find(v.begin(), v.end(), why) != v.end();
        return n;
    }
};

Protection compute_protection(const Repo &repo, const std::vector<Descriptor> &snaps, const Retention &ret,
                              const Timestamp &now) {
    Protection p;
    std::unordered_map<std::string, const Descriptor *> by_id;
    for (const auto &d : snaps) by_id.emplace(d.snapshot_id, &d);
    // Leases and intents before worktree configs: an operation releases its lease (restore, fork) or
    // removes its intent (snapshot) only after the worktree config names the snapshot, so reading in
    // this order never misses a snapshot an operation is using or publishing right now.
    for (const auto &l : list_leases(repo)) {
        if (!l.live) continue;  // its holder died: protects nothing
        p.add(l.snapshot_id, "in_flight");
        p.in_flight.insert(l.snapshot_id);
    }
    for (const auto &n : dir_entries(repo.intents_dir())) {
        if (!ends_with(n, ".json")) continue;
        std::string id = n.substr(0, n.size() - 5);
        p.add(id, "in_flight");
        p.in_flight.insert(id);
    }
    std::set<std::string> walked;
    for (const auto &name : repo.worktree_names()) {
        WorktreeConfig cfg;
        try {
            cfg = repo.load_worktree(name);  // a corrupt config stops gc: better than guessing
        } catch (const Error &e) {
            if (e.code == "E_WORKTREE_NOT_FOUND") continue;  // removed meanwhile: protects nothing
            throw;
        }
        for (const std::string *start : {&cfg.head_snapshot_id, &cfg.latest_snapshot_id, &cfg.base_snapshot_id}) {
            std::string id = *start;
            while (!id.empty() && walked.insert(id).second) {
                p.add(id, "lineage");
                auto it = by_id.find(id);
                if (it != by_id.end()) {
                    id = it->second->parent_id;
                } else {
                    auto d = try_load_descriptor(repo, id);
                    id = d ? d->parent_id : std::string();
                }
            }
        }
    }
    for (const auto &pin : read_pins(repo, now))
        if (!pin.expired) p.add(pin.snapshot_id, "pin");
    int64_t rank = 0;
    for (const auto &d : snaps) {  // newest first
        bool keep = rank++ < ret.keep_last;
        const int64_t age_ns = now.unix_ns() - d.created_at.unix_ns();
        if (ret.within_ns > 0 && age_ns < ret.within_ns) keep = true;
        if (age_ns < ret.min_age_ns) keep = true;  // the Go tool's keep_min_age
        for (const auto &t : d.tags)
            for (const auto &pre : ret.keep_tags)
                if (t.compare(0, pre.size(), pre) == 0) keep = true;
        if (keep) p.add(d.snapshot_id, "retention");
    }
    return p;
}

// Snapshot directories with no descriptor, no intent, older than an hour, and no .READY marker:
// leftovers of a crash. A directory with a marker may be a complete snapshot that lost its
// descriptor, somebody's data: `doctor --repair` publishes it again (or reports why it cannot), gc
// never deletes it.
std::vector<std::string> orphan_dirs(const Repo &repo, const Protection &p, const Timestamp &now) {
    std::vector<std::string> out;
    for (const auto &n : dir_entries(repo.snapshots_dir())) {
        if (!is_snapshot_id(n) || p.has(n) || p.in_flight.count(n)) continue;  // never *.tmp
        std::string dir = repo.snapshot_dir(n);
        auto st = lstat_path(dir);
        if (!st || !S_ISDIR(st->st_mode)) continue;
        if (exists_nofollow(repo.descriptor_path(n))) continue;
        if (exists_nofollow(path_join(dir, ".READY")) || exists_nofollow(path_join(dir, ".READY.gz"))) continue;
        int64_t mt = st->st_mtim.tv_sec * kNs + st->st_mtim.tv_nsec;
        if (now.unix_ns() - mt < kOrphanMinAgeNs) continue;
        out.push_back(n);
    }
    return out;
}

// ---- space accounting ----------------------------------------------------------------------------

struct InodeUse {
    uint64_t nlink = 0, seen = 0, bytes = 0;
};
using InodeMap = std::map<std::pair<uint64_t, uint64_t>, InodeUse>;

// Every inode below `dir`, listed beneath it (a snapshot tree is never left through a symlink).
void walk_inodes(const Dir &dir, InodeMap &m, int depth) {
    if (depth > 4096) return;
    for (const auto &n : dir.list()) {
        std::optional<struct stat> st;
        std::optional<Dir> sub;
        try {
            st = dir.lstat(n);
            if (st && S_ISDIR(st->st_mode)) sub = dir.dir_if_exists(n);
        } catch (const Error &) {
            continue;  // changed meanwhile: not counted
        }
        if (!st) continue;
        if (S_ISDIR(st->st_mode)) {
            if (sub) walk_inodes(*sub, m, depth + 1);
            continue;
        }
        auto &u = m[{static_cast<uint64_t>(st->st_dev), static_cast<uint64_t>(st->st_ino)}];
        u.nlink = st->st_nlink;
        u.seen++;
        u.bytes = static_cast<uint64_t>(st->st_blocks) * 512;
    }
}

// Bytes freed by deleting all of `dirs`: each inode once, and only if every link to it is inside them.
uint64_t reclaimable_bytes(const Repo &repo, const std::vector<std::string> &ids) {
    InodeMap m;
    for (const auto &id : ids) {
        try {
            if (auto d = Dir::open_root_if_exists(repo.snapshot_dir(id))) walk_inodes(*d, m, 0);
        } catch (const Error &) {
            // not a directory (a symlink in its place is removed as a link): nothing to count
        }
    }
    uint64_t total = 0;
    for (const auto &[k, u] : m)
        if (u.seen >= u.nlink) total += u.bytes;
    return total;
}

std::string fingerprint(const std::vector<std::string> &protected_ids, const std::vector<std::string> &candidates) {
    ordered j = {{"protected", protected_ids}, {"candidates", candidates}};
    return sha256_hex(gojson::canonical(j));
}

// ---- tombstones ----------------------------------------------------------------------------------

std::string tombstone_state(const Repo &repo, const std::string &id) {
    auto raw = read_file_if_exists(tombstone_path(repo, id));
    if (!raw) return {};
    auto j = gojson::parse(*raw);
    if (!j || !j->is_object()) return "marked";  // torn or foreign: finish it
    auto it = j->find("gc_state");
    if (it == j->end() || !it->is_string()) return "committed";  // a Go tombstone: written after deleting
    return it->get<std::string>();
}

void write_tombstone(const Repo &repo, const std::string &id, const std::string &plan_id, const char *state) {
    ordered t = {{"snapshot_id", id},
                 {"deleted_at", format_rfc3339nano(now_utc())},
                 {"reclaimable", true},
                 {"gc_state", state},
                 {"plan_id", plan_id}};
    atomic_write(tombstone_path(repo, id), gojson::indent(t), 0644);
}

void unlink_if_exists(const std::string &path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail_errno(errno, "unlink", path);
}

[[noreturn]] void plan_mismatch(const std::string &plan_id, const std::string &msg, const std::string &id) {
    fail("E_GC_PLAN_MISMATCH", "gc plan " + plan_id + " no longer matches the repository: " + msg,
         "run `jvs gc plan` again and run the new plan", {{"plan_id", plan_id}, {"snapshot_id", id}});
}

std::vector<std::string> string_list(const ordered &plan, const char *key, const std::string &plan_id) {
    std::vector<std::string> out;
    auto it = plan.find(key);
    if (it == plan.end() || it->is_null()) return out;
    if (!it->is_array()) plan_mismatch(plan_id, std::string("the plan's ") + key + " is not a list", "");
    for (const auto &v : *it) {
        if (!v.is_string()) plan_mismatch(plan_id, std::string("the plan's ") + key + " holds a non-string", "");
        out.push_back(v.get<std::string>());
    }
    return out;
}

std::optional<WorktreeConfig> worktree_if_any(const Repo &repo, const std::string &name) {
    if (name.empty() || !repo.worktree_exists(name)) return std::nullopt;
    return repo.load_worktree(name);
}

}  // namespace

// ---- plan ----------------------------------------------------------------------------------------

Doc op_gc_plan(const Session &s, const GcPlanOptions &o, OpContext &ctx) {
    const Repo &repo = s.repo;
    Retention ret = retention_for(repo, o);
    Timestamp now = now_utc();
    ctx.phase("plan", 0);
    std::vector<Descriptor> snaps = list_snapshots(repo);
    Protection prot = compute_protection(repo, snaps, ret, now);

    std::vector<std::string> candidates, orphans = orphan_dirs(repo, prot, now);
    for (const auto &d : snaps)
        if (!prot.has(d.snapshot_id)) candidates.push_back(d.snapshot_id);
    candidates.insert(candidates.end(), orphans.begin(), orphans.end());
    std::sort(candidates.begin(), candidates.end());
    uint64_t bytes = reclaimable_bytes(repo, candidates);

    std::vector<std::string> protected_ids;
    for (const auto &[id, why] : prot.reasons) protected_ids.push_back(id);
    std::string plan_id = new_uuid_v4();
    std::string created = format_rfc3339nano(now);

    ordered plan;
    plan["plan_id"] = plan_id;
    plan["created_at"] = created;
    plan["protected_set"] = protected_ids;
    plan["protected_by_pin"] = prot.count("pin");
    plan["protected_by_lineage"] = prot.count("lineage");
    plan["protected_by_retention"] = prot.count("retention");
    plan["candidate_count"] = candidates.size();
    plan["to_delete"] = candidates;
    plan["deletable_bytes_estimate"] = bytes;
    plan["retention_policy"] = {{"keep_min_snapshots", ret.keep_last}, {"keep_min_age", ret.min_age_ns}};
    // jvs's own fields (the Go tool ignores unknown keys).
    plan["retention"] = ret.to_json();
    plan["orphans"] = orphans;
    plan["fingerprint"] = fingerprint(protected_ids, candidates);
    mkdirs(gc_dir(repo), 0755);
    atomic_write(plan_path(repo, plan_id), gojson::indent(plan), 0644);

    Doc doc = make_doc("gc_plan");
    doc["plan_id"] = plan_id;
    doc["created_at"] = created;
    Doc prot_list = Doc::array();
    for (const auto &[id, why] : prot.reasons) prot_list.push_back({{"snapshot_id", id}, {"reasons", why}});
    doc["protected"] = std::move(prot_list);
    doc["candidates"] = candidates;
    doc["bytes_reclaimable"] = bytes;
    doc["retention"] = ret.to_json();
    audit(repo, doc, "gc_plan", "", "", {{"plan_id", plan_id}, {"candidate_count", candidates.size()}});
    return doc;
}

// ---- run -----------------------------------------------------------------------------------------

Doc op_gc_run(const Session &s, const GcRunOptions &o, OpContext &ctx) {
    const Repo &repo = s.repo;
    if (!is_uuid(o.plan_id))
        fail("E_OPTION_INVALID", "plan_id is not a gc plan id: " + o.plan_id,
             "use the plan_id printed by `jvs gc plan`", {{"option", "plan_id"}});
    const std::string &plan_id = o.plan_id;
    FileLock lock = lock_repo(repo, o.lock_timeout_ms, "gc run", &ctx);
    remove_stale_leases(repo);  // provably stale: no live holder, and none can be created meanwhile

    auto raw = read_file_if_exists(plan_path(repo, plan_id));
    if (!raw)
        fail("E_REF_NOT_FOUND", "no gc plan " + plan_id, "run `jvs gc plan` to make a plan, then run it",
             {{"plan_id", plan_id}});
    auto parsed = gojson::parse(*raw);
    if (!parsed || !parsed->is_object()) plan_mismatch(plan_id, "the plan file is unreadable", "");
    const ordered &plan = *parsed;
    std::vector<std::string> candidates = string_list(plan, "to_delete", plan_id);
    std::vector<std::string> orphan_list = string_list(plan, "orphans", plan_id);
    std::set<std::string> orphans(orphan_list.begin(), orphan_list.end());
    for (const auto &id : candidates)
        if (!is_snapshot_id(id)) plan_mismatch(plan_id, "the plan names something that is not a snapshot: " + id, id);

    // The plan's own retention (ours, else the Go tool's fields).
    Retention ret;
    try {
        if (auto it = plan.find("retention"); it != plan.end() && it->is_object()) {
            ret.keep_last = it->value("keep_last", int64_t{0});
            ret.keep_within = it->value("keep_within", std::string());
            ret.keep_tags = it->value("keep_tags", std::vector<std::string>{});
            ret.within_ns = ret.keep_within.empty() ? 0 : parse_duration(ret.keep_within).value_or(0);
            ret.keep_min_age = it->value("keep_min_age", std::string());
            ret.min_age_ns = parse_duration(ret.keep_min_age).value_or(0);
        } else if (auto rp = plan.find("retention_policy"); rp != plan.end() && rp->is_object()) {
            ret.keep_last = rp->value("keep_min_snapshots", int64_t{0});
        }
        // keep_min_age in nanoseconds: the Go tool's field, also in plans older jvs releases wrote.
        if (auto rp = plan.find("retention_policy"); ret.keep_min_age.empty() && rp != plan.end() && rp->is_object())
            ret.min_age_ns = std::max<int64_t>(0, rp->value("keep_min_age", int64_t{0}));
        if (auto fp = plan.find("fingerprint"); fp != plan.end()) {
            std::vector<std::string> prot_ids = string_list(plan, "protected_set", plan_id);
            if (!fp->is_string() || fp->get<std::string>() != fingerprint(prot_ids, candidates))
                plan_mismatch(plan_id, "the plan file was altered", "");
        }
    } catch (const nlohmann::json::exception &) {
        plan_mismatch(plan_id, "the plan file is malformed", "");
    }

    // Re-check everything before writing anything.
    ctx.phase("check", candidates.size());
    Timestamp now = now_utc();
    std::vector<Descriptor> snaps = list_snapshots(repo);
    Protection prot = compute_protection(repo, snaps, ret, now);
    std::vector<std::string> todo;
    std::map<std::string, std::string> state;
    // A refused plan also gives back what an interrupted run of it had marked but not yet unpublished:
    // those snapshots stay whole and visible, so nothing must keep calling them condemned.
    auto refuse = [&](const std::string &msg, const std::string &id) {
        for (const auto &c : candidates)
            if (tombstone_state(repo, c) == "marked" && exists_nofollow(repo.descriptor_path(c)))
                unlink_if_exists(tombstone_path(repo, c));
        plan_mismatch(plan_id, msg, id);
    };
    for (const auto &id : candidates) {
        std::string st = tombstone_state(repo, id);
        state[id] = st;
        bool dir = exists_nofollow(repo.snapshot_dir(id));
        bool desc = exists_nofollow(repo.descriptor_path(id));
        if (st == "committed" && !dir && !desc) continue;  // finished by an earlier run
        if (st == "marked" && !desc) {  // unpublished by an earlier run: only its files remain to go
            todo.push_back(id);
            continue;
        }
        if (prot.has(id)) refuse("snapshot " + id + " is now protected", id);
        if (!dir && !desc && st.empty()) refuse("snapshot " + id + " is gone", id);
        if (orphans.count(id) && desc && st.empty())
            refuse("snapshot " + id + " has been published since the plan", id);
        if (!desc && st.empty() && exists_nofollow(path_join(repo.snapshot_dir(id), ".READY")))
            refuse("snapshot directory " + id + " has a .READY marker: it may be a complete snapshot (run `jvs doctor`)", id);
        todo.push_back(id);
        ctx.advance(1);
    }

    // Phase 1: mark.
    if (!todo.empty()) mkdirs(tombstones_dir(repo), 0755);
    size_t marked = 0;
    for (const auto &id : todo) {
        if (state[id] == "marked") continue;
        write_tombstone(repo, id, plan_id, "marked");
        if (++marked == 1) fault_point("gc.mid_mark");
    }
    fault_point("gc.after_tombstones");

    // Phase 2: delete (unpublish first, so a crash never leaves a visible half-deleted snapshot).
    ctx.phase("delete", todo.size());
    uint64_t freed = 0;
    Doc deleted = Doc::array();
    bool first = true;
    for (const auto &id : todo) {
        ctx.check_cancelled();
        std::string dir = repo.snapshot_dir(id);
        freed += reclaimable_bytes(repo, {id});
        unlink_if_exists(repo.descriptor_path(id));
        fsync_path(repo.descriptors_dir());
        if (first) fault_point("gc.after_unpublish");
        unlink_if_exists(repo.manifest_path(id));
        remove_tree(dir);
        fsync_path(repo.snapshots_dir());
        if (first) fault_point("gc.mid_delete");
        first = false;
        write_tombstone(repo, id, plan_id, "committed");
        deleted.push_back(id);
        ctx.advance(1);
    }
    fault_point("gc.after_delete");
    unlink_if_exists(plan_path(repo, plan_id));
    fault_point("gc.after_plan_removed");

    Doc doc = make_doc("gc_run");
    doc["plan_id"] = plan_id;
    doc["deleted"] = deleted;
    doc["bytes_freed"] = freed;
    audit(repo, doc, "gc_run", "", "", {{"plan_id", plan_id}, {"deleted_count", deleted.size()}});
    return doc;
}

// ---- pins ----------------------------------------------------------------------------------------

Doc op_gc_pin(const Session &s, const PinOptions &o) {
    const Repo &repo = s.repo;
    ResolvedRef r = resolve_ref(repo, worktree_if_any(repo, o.worktree), o.ref);
    Timestamp now = now_utc();
    Pin p;
    p.snapshot_id = r.descriptor.snapshot_id;
    p.pinned_at = format_rfc3339nano(now);
    p.reason = o.reason;
    if (!o.expires.empty()) {
        std::optional<Timestamp> exp = parse_rfc3339(o.expires);
        if (!exp)
            if (auto d = parse_duration(o.expires)) exp = add_ns(now, *d);
        if (!exp)
            fail("E_OPTION_INVALID", "expires is neither an RFC 3339 time nor a duration: " + o.expires,
                 "use e.g. \"7d\", \"24h\" or \"2027-01-01T00:00:00Z\"", {{"option", "expires"}});
        if (*exp < now)
            fail("E_OPTION_INVALID", "expires lies in the past: " + o.expires, "give a future time or a duration",
                 {{"option", "expires"}});
        p.expires_raw = format_rfc3339nano(*exp);
    }
    ordered file = pin_json(p, false);
    mkdirs(pins_dir(repo), 0755);
    atomic_write(path_join(pins_dir(repo), p.snapshot_id + ".json"), gojson::indent(file), 0644);

    Doc doc = make_doc("gc_pin");
    doc["pin"] = pin_json(p, true);
    doc["matched_by"] = r.matched_by;
    nlohmann::json details = nlohmann::json::object();
    if (!p.reason.empty()) details["reason"] = p.reason;
    if (!p.expires_raw.empty()) details["expires_at"] = p.expires_raw;
    audit(repo, doc, "gc_pin", p.snapshot_id, "", details);
    return doc;
}

Doc op_gc_unpin(const Session &s, const PinOptions &o) {
    const Repo &repo = s.repo;
    std::string id;
    try {
        id = resolve_ref(repo, worktree_if_any(repo, o.worktree), o.ref).descriptor.snapshot_id;
    } catch (const Error &e) {
        // A pin may outlive its snapshot (e.g. deleted by the Go tool): unpin by exact id then.
        if (e.code != "E_REF_NOT_FOUND" || !is_snapshot_id(o.ref)) throw;
        id = o.ref;
    }
    int removed = 0;
    for (const auto &p : read_pins(repo, now_utc()))
        if (p.snapshot_id == id) {
            unlink_if_exists(p.file);
            removed++;
        }
    std::string own = path_join(pins_dir(repo), id + ".json");
    if (exists_nofollow(own)) {  // even a malformed file under the snapshot's own name
        unlink_if_exists(own);
        removed++;
    }
    if (removed == 0)
        fail("E_REF_NOT_FOUND", "snapshot " + id + " is not pinned", "list pins with `jvs gc pins`",
             {{"snapshot_id", id}});
    fsync_path(pins_dir(repo));
    Doc doc = make_doc("gc_unpin");
    doc["snapshot_id"] = id;
    doc["removed"] = true;
    audit(repo, doc, "gc_unpin", id, "", nlohmann::json::object());
    return doc;
}

Doc op_gc_pins(const Session &s) {
    Doc doc = make_doc("gc_pins");
    Doc list = Doc::array();
    for (const auto &p : read_pins(s.repo, now_utc())) list.push_back(pin_json(p, true));
    doc["pins"] = std::move(list);
    return doc;
}

}  // namespace jvs
