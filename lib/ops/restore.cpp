// jvs_restore: make the worktree hold a snapshot's content again, in place.
#include "engine/select.hpp"
#include "ops/checkout.hpp"
#include "ops/snapshot_source.hpp"
#include "ops/ops.hpp"
#include "repo/refs.hpp"
#include "repo/snapshots.hpp"
#include "util/error.hpp"
#include "util/fault.hpp"
#include "util/fs.hpp"

#include <unistd.h>

#include <optional>

namespace jvs {

namespace {
// Restoring trusts the snapshot; at least its descriptor must be the one that was published.
void check_restorable(const Repo &repo, const Descriptor &d) {
    if (descriptor_checksum(d) != d.descriptor_checksum)
        fail("E_CHECKSUM_MISMATCH", "descriptor of snapshot " + d.snapshot_id + " fails its checksum",
             "run `jvs verify " + d.snapshot_id + "`; restore another snapshot", {{"snapshot_id", d.snapshot_id}});
    if (!is_directory(repo.snapshot_dir(d.snapshot_id)))
        fail("E_SNAPSHOT_INCOMPLETE", "snapshot " + d.snapshot_id + " has no payload directory",
             "run jvs doctor; restore another snapshot", {{"snapshot_id", d.snapshot_id}});
}
}  // namespace

Doc op_restore(const Session &s, const RestoreOptions &o, OpContext &ctx) {
    const Repo &repo = s.repo;
    // A dry run writes nothing, so it takes no lock either: it works on a read-only mount, and
    // beside a running writer it plans against whatever the worktree holds at that moment.
    std::optional<FileLock> lock;
    if (!o.dry_run) lock = lock_worktree(repo, o.worktree, o.lock_timeout_ms, "restore", &ctx);
    WorktreeConfig cfg = repo.load_worktree(o.worktree);
    ResolvedRef r = resolve_ref(repo, cfg, o.ref, HeadMeans::Latest);
    const Descriptor &d = r.descriptor;
    check_restorable(repo, d);
    // gc must not delete the snapshot while its files are being copied out (a dry run copies nothing).
    std::optional<SnapshotLease> lease;
    if (!o.dry_run) lease = SnapshotLease::take(repo, d.snapshot_id, "restore", o.lock_timeout_ms, &ctx);
    std::string payload = repo.payload_path(cfg.name);
    if (!lstat_path(payload) && !o.dry_run) mkdirs(payload, 0755);
    // Both roots opened once; every file below is reached beneath them, never through a symlink.
    Dir wt = Dir::open_root(payload);
    // A snapshot the Go tool compressed is read as the files the user had (or refused).
    SnapshotSource source = SnapshotSource::open(repo, d, ctx);
    const Manifest &manifest = source.manifest();
    StatCache cache = StatCache::load(repo.stat_cache_path(cfg.name));
    CheckoutPlan plan = plan_checkout(wt, manifest, d.partial_paths, cache, ctx, repo.adopted());
    bool detached = !cfg.latest_snapshot_id.empty() && d.snapshot_id != cfg.latest_snapshot_id;

    Doc doc = make_doc("restore");
    doc["snapshot_id"] = d.snapshot_id;
    doc["worktree"] = cfg.name;
    doc["detached"] = detached;
    doc["dry_run"] = o.dry_run;
    doc["partial"] = !d.partial_paths.empty();
    doc["matched_by"] = r.matched_by;
    if (o.dry_run) {
        CheckoutStats planned;
        planned.unchanged = plan.unchanged;
        for (const auto &c : plan.changes) {
            if (c.action == "create" || c.action == "mkdir") planned.created++;
            else if (c.action == "update") planned.updated++;
            else if (c.action == "metadata") planned.metadata++;
            else planned.deleted++;
            if (c.target && (c.action == "create" || c.action == "update")) planned.bytes_written += c.target->size;
        }
        doc["stats"] = planned.to_json();
        doc["changes"] = plan_to_json(plan);
        source.annotate(doc);
        return doc;  // nothing written, not even the stat cache
    }
    fault_point("restore.after_plan");
    EngineChoice engine = choose_engine(repo, true);
    CopyMethod method = copy_method(engine);
    CheckoutStats stats = apply_checkout(wt, source.files(plan, ctx), plan, cache, ctx, method, false, "restore.mid_write");
    fault_point("restore.after_write");
    source.release();  // an inflated copy is not written back by the syncfs below
    // The config below says the worktree holds this snapshot: the rewritten files are durable first.
    if (!plan.changes.empty() && ::syncfs(wt.fd()) != 0) fail_errno(errno, "syncfs", payload);
    cfg.head_snapshot_id = d.snapshot_id;
    if (cfg.latest_snapshot_id.empty()) cfg.latest_snapshot_id = d.snapshot_id;
    repo.save_worktree(cfg);
    fault_point("restore.after_config");
    doc["detached"] = cfg.detached();
    doc["engine"] = checkout_engine(stats, method);
    doc["stats"] = stats.to_json();
    doc["changes"] = plan_to_json(plan);
    doc["degradations"] = checkout_degradations(stats);
    if (!engine.shortfall.empty() && !plan.changes.empty())
        doc["degradations"].push_back(Degradation{"clone_fallback", ".", engine.shortfall}.to_json());
    source.annotate(doc);
    try {
        cache.save(repo.stat_cache_path(cfg.name));
    } catch (const Error &e) {
        doc["warnings"].push_back({{"code", e.code}, {"message", "stat cache not saved: " + e.message}});
    }
    audit(repo, doc, "restore", d.snapshot_id, cfg.name, {{"detached", cfg.detached()}});
    return doc;
}

}  // namespace jvs
