// Worktrees: create (empty or from a snapshot), fork, list, path, rename, remove.
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>

#include "engine/juicefs.hpp"
#include "engine/scan.hpp"
#include "engine/select.hpp"
#include "format/ids.hpp"
#include "ops/checkout.hpp"
#include "ops/ops.hpp"
#include "ops/snapshot_source.hpp"
#include "repo/refs.hpp"
#include "repo/snapshots.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"

namespace jvs {

namespace {
[[noreturn]] void exists_error(const std::string &name) {
    fail("E_WORKTREE_EXISTS", "worktree '" + name + "' already exists", "choose another name, or remove it first",
         {{"worktree", name}});
}

// Claims the name atomically: mkdir of the payload directory succeeds for exactly one caller, in
// this process or another, so two forks racing for one name never share a directory.
void claim_payload(const Repo &repo, const std::string &name) {
    if (repo.worktree_exists(name)) exists_error(name);
    std::string payload = repo.payload_path(name);
    mkdirs(parent_path(payload), 0755);
    if (::mkdir(payload.c_str(), 0755) != 0) {
        if (errno == EEXIST) exists_error(name);
        fail_errno(errno, "mkdir", payload);
    }
    if (repo.worktree_exists(name)) {  // a config appeared concurrently (e.g. the Go tool)
        ::rmdir(payload.c_str());
        exists_error(name);
    }
}

// JuiceFS: clone the whole snapshot in one metadata operation into a staging sibling, then rename it
// over the (empty) claimed directory. The stat cache learns every file's hash from the manifest.
bool populate_by_clone(const Repo &repo, const std::string &name, const Descriptor &d, const Manifest &manifest,
                       Doc &doc, std::string *why) {
    std::string payload = repo.payload_path(name);
    std::string staging = repo.fork_staging_path(name);
    remove_tree(staging);
    // The source is named by one component in the snapshots directory jvs holds open.
    if (!juicefs_clone(Dir::open_root(repo.snapshots_dir()), d.snapshot_id, staging, why)) {
        remove_tree(staging);
        return false;
    }
    int64_t cloned_ns = 0;
    try {
        // The snapshot's marker is control data; a user's `.READY` gets its own name back.
        rename_ready_for_worktree(Dir::open_root(staging));
        // Nobody else knows the staging path: every file in it is as the clone (and the renames
        // just above) made it until now.
        cloned_ns = stamp_clock_ns();
    } catch (...) {
        remove_tree(staging);
        throw;
    }
    if (::rename(staging.c_str(), payload.c_str()) != 0) {
        int err = errno;
        remove_tree(staging);
        fail_errno(err, "rename", payload);
    }
    // The clone keeps modes and mtimes: the manifest says what each file holds, without a scan of
    // the new tree (through FUSE, a scan would cost a third of the clone).
    StatCache cache;
    for (const auto &m : worktree_view(manifest))
        if (m.type == 'f') cache.put_unseen(m.rel, m.size, m.mtime_ns, S_IFREG | m.perm, m.hash, cloned_ns);
    cache.save(repo.stat_cache_path(name));
    CheckoutStats stats;
    stats.created = manifest.size();
    stats.cloned = std::count_if(manifest.begin(), manifest.end(), [](const ManifestEntry &m) { return m.type == 'f'; });
    doc["engine"] = engine_name(EngineKind::Juicefs);
    doc["stats"] = stats.to_json();
    doc["degradations"] = Doc::array();
    return true;
}

// Fills a freshly claimed payload directory with a snapshot, with the repository's best engine.
// Records the new files in the worktree's stat cache so its first snapshot reads nothing.
void populate(const Repo &repo, const std::string &name, const Descriptor &d, OpContext &ctx, Doc &doc) {
    if (descriptor_checksum(d) != d.descriptor_checksum)
        fail("E_CHECKSUM_MISMATCH", "descriptor of snapshot " + d.snapshot_id + " fails its checksum",
             "run `jvs verify " + d.snapshot_id + "`", {{"snapshot_id", d.snapshot_id}});
    // A snapshot the Go tool compressed is read as the files the user had (or refused).
    SnapshotSource source = SnapshotSource::open(repo, d, ctx);
    const Manifest &manifest = source.manifest();
    EngineChoice engine = choose_engine(repo, true);
    std::string why;
    // A clone would copy the compressed files as they are: only plain snapshots are cloned whole.
    if (engine.kind == EngineKind::Juicefs && !source.compressed() &&
        populate_by_clone(repo, name, d, manifest, doc, &why))
        return;
    CopyMethod method = copy_method(engine);
    StatCache cache;
    Dir wt = Dir::open_root(repo.payload_path(name));
    CheckoutPlan plan = plan_checkout(wt, manifest, {}, cache, ctx, repo.adopted());
    CheckoutStats stats = apply_checkout(wt, source.files(plan, ctx), plan, cache, ctx, method, true, "fork.mid_write");
    cache.save(repo.stat_cache_path(name));
    doc["engine"] = checkout_engine(stats, method);
    doc["stats"] = stats.to_json();
    doc["degradations"] = checkout_degradations(stats);
    if (engine.kind == EngineKind::Juicefs && !source.compressed())
        doc["degradations"].push_back(Degradation{"clone_fallback", ".", why}.to_json());
    if (!engine.shortfall.empty())
        doc["degradations"].push_back(Degradation{"clone_fallback", ".", engine.shortfall}.to_json());
    source.annotate(doc);
}

Doc create_common(const Session &s, const std::string &raw_name, const std::string &from, const std::string &source_wt,
                  bool fork, int64_t timeout, OpContext &ctx) {
    const Repo &repo = s.repo;
    std::string name = validate_name(raw_name);
    std::optional<Descriptor> snap;
    if (!from.empty()) {
        std::optional<WorktreeConfig> src;
        if (repo.worktree_exists(source_wt)) src = repo.load_worktree(source_wt);
        snap = resolve_ref(repo, src, from).descriptor;
    }
    // Held until the new worktree's config names the snapshot (from then on gc protects it as a base).
    std::optional<SnapshotLease> lease;
    if (snap) lease = SnapshotLease::take(repo, snap->snapshot_id, fork ? "fork" : "worktree_create", timeout, &ctx);
    repo.ensure_private_dirs();
    // Held until the config says what the directory is: a crash before that leaves a dead claim,
    // which is how doctor knows the directory is jvs's leftover and not a user's.
    PayloadClaim claim = PayloadClaim::take(repo, name, fork ? "fork" : "worktree_create");
    claim_payload(repo, name);
    fault_point("fork.after_claim");
    FileLock lock = lock_worktree(repo, name, timeout, fork ? "fork" : "worktree_create", &ctx);
    Doc doc = make_doc("worktree");
    WorktreeConfig cfg;
    cfg.name = name;
    cfg.created_at = now_utc();
    try {
        if (snap) {
            populate(repo, name, *snap, ctx, doc);
            // The config below publishes the worktree: its files are durable first (one barrier).
            sync_filesystem(repo.payload_path(name));
            fault_point("fork.after_populate");
            cfg.base_snapshot_id = cfg.head_snapshot_id = snap->snapshot_id;
            if (fork) cfg.latest_snapshot_id = snap->snapshot_id;
        }
        // An empty worktree materialises nothing; it names the engine its restores will use.
        if (!snap) doc["engine"] = engine_name(choose_engine(repo, true).kind);
        repo.save_worktree(cfg);  // publish: the worktree exists from here on
        fault_point("fork.after_config");
    } catch (...) {
        remove_tree(repo.payload_path(name));
        remove_tree(repo.fork_staging_path(name));
        remove_tree(parent_path(repo.worktree_config_path(name)));
        ::unlink(repo.stat_cache_path(name).c_str());
        throw;
    }
    doc["worktree"] = worktree_doc(repo, cfg);
    if (!doc.contains("degradations")) doc["degradations"] = Doc::array();
    nlohmann::json details = {{"fork", fork}};
    if (snap) details["from"] = snap->snapshot_id;
    audit(repo, doc, "worktree_create", snap ? snap->snapshot_id : "", name, details);
    return doc;
}

std::string auto_fork_name(const Repo &repo, const std::string &snapshot_id) {
    std::string base = "fork-" + snapshot_id.substr(snapshot_id.size() - 8);
    std::string name = base;
    for (int i = 2; repo.worktree_exists(name) || exists_nofollow(repo.payload_path(name)); i++)
        name = base + "-" + std::to_string(i);
    return name;
}
}  // namespace

Doc op_worktree_create(const Session &s, const CreateOptions &o, OpContext &ctx) {
    return create_common(s, o.name, o.from, o.worktree, false, o.lock_timeout_ms, ctx);
}

Doc op_worktree_fork(const Session &s, const ForkOptions &o, OpContext &ctx) {
    std::string from = o.from;
    if (from.empty()) {
        WorktreeConfig src = s.repo.load_worktree(o.worktree);
        if (src.head_snapshot_id.empty())
            fail("E_NO_SNAPSHOTS", "worktree '" + src.name + "' has no snapshot to fork from",
                 "take a snapshot first, or pass a reference", {{"worktree", src.name}});
        from = src.head_snapshot_id;
    }
    std::string name = o.name;
    if (name.empty()) {
        std::optional<WorktreeConfig> src;
        if (s.repo.worktree_exists(o.worktree)) src = s.repo.load_worktree(o.worktree);
        name = auto_fork_name(s.repo, resolve_ref(s.repo, src, from).descriptor.snapshot_id);
    }
    return create_common(s, name, from, o.worktree, true, o.lock_timeout_ms, ctx);
}

Doc op_worktree_list(const Session &s) {
    Doc doc = make_doc("worktree_list");
    Doc list = Doc::array();
    for (const auto &name : s.repo.worktree_names()) {
        try {
            list.push_back(worktree_doc(s.repo, s.repo.load_worktree(name)));
        } catch (const Error &e) {
            doc["warnings"].push_back({{"code", e.code}, {"message", "worktree '" + name + "': " + e.message}});
        }
    }
    doc["worktrees"] = std::move(list);
    return doc;
}

Doc op_worktree_path(const Session &s, const PathOptions &o) {
    WorktreeConfig cfg = s.repo.load_worktree(o.name);
    Doc doc = make_doc("worktree_path");
    doc["name"] = cfg.name;
    doc["path"] = s.repo.payload_path(o.name);
    return doc;
}

Doc op_worktree_rename(const Session &s, const RenameOptions &o) {
    const Repo &repo = s.repo;
    if (o.name == "main")
        fail("E_WORKTREE_MAIN", "worktree 'main' cannot be renamed",
             "fork it instead: `jvs worktree fork HEAD <name>`", {{"worktree", o.name}});
    std::string to = validate_name(o.new_name);
    if (to == "main") exists_error(to);
    WorktreeConfig cfg = repo.load_worktree(o.name);
    // No writer may run on the worktree while its directories move; the new name is claimed by the
    // no-replace rename below, which a concurrent create of the same name cannot slip past.
    FileLock lock = lock_worktree(repo, o.name, o.lock_timeout_ms, "worktree_rename");
    FileLock repo_lock = lock_repo(repo, o.lock_timeout_ms, "worktree_rename");
    if (repo.worktree_exists(to)) exists_error(to);
    std::string old_payload = repo.payload_path(o.name), new_payload = repo.payload_path(to);
    if (::renameat2(AT_FDCWD, old_payload.c_str(), AT_FDCWD, new_payload.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) exists_error(to);
        fail_errno(errno, "rename", new_payload);
    }
    std::string old_cfg_dir = parent_path(repo.worktree_config_path(o.name));
    std::string new_cfg_dir = parent_path(repo.worktree_config_path(to));
    if (::rename(old_cfg_dir.c_str(), new_cfg_dir.c_str()) != 0) {
        int err = errno;
        ::rename(new_payload.c_str(), old_payload.c_str());  // put the payload back
        fail_errno(err, "rename", new_cfg_dir);
    }
    cfg.name = to;
    repo.save_worktree(cfg);
    ::rename(repo.stat_cache_path(o.name).c_str(), repo.stat_cache_path(to).c_str());  // inodes are unchanged
    lock.unlink_file();  // the old name's lock file goes with the old name
    Doc doc = make_doc("worktree");
    doc["worktree"] = worktree_doc(repo, cfg);
    audit(repo, doc, "worktree_rename", "", to, {{"from", o.name}, {"to", to}});
    return doc;
}

Doc op_worktree_remove(const Session &s, const RemoveOptions &o) {
    const Repo &repo = s.repo;
    if (o.name == "main")
        fail("E_WORKTREE_MAIN", "worktree 'main' cannot be removed", "remove other worktrees only",
             {{"worktree", o.name}});
    FileLock lock = lock_worktree(repo, o.name, o.lock_timeout_ms, "worktree_remove");
    WorktreeConfig cfg = repo.load_worktree(o.name);
    if (cfg.detached() && !o.force)
        fail("E_DETACHED",
             "worktree '" + o.name + "' is detached: its files are not its latest snapshot",
             "remove it with force (--force / force) anyway; its snapshots are kept", {{"worktree", o.name}});
    // The config goes first: from then on the worktree no longer exists for anyone; the payload
    // removal that follows is only cleanup (doctor finishes it after a crash, as the claim proves
    // the directory was a worktree jvs was removing).
    PayloadClaim claim = PayloadClaim::take(repo, o.name, "worktree_remove");
    remove_tree(parent_path(repo.worktree_config_path(o.name)));
    Doc doc = make_doc("worktree_remove");
    try {
        fault_point("remove.after_config");
        remove_tree(repo.payload_path(o.name));
    } catch (const Error &e) {
        // The worktree is gone already (its config was the publish point); what is left of its files
        // stays claimed by this dead claim, so `doctor --repair` may finish removing them.
        claim.abandon();
        doc["warnings"].push_back({{"code", e.code},
                                   {"message", "worktree removed, but not all of its files: " + e.message +
                                                   "; `jvs doctor --repair` removes the rest"}});
    }
    fault_point("remove.after_payload");
    ::unlink(repo.stat_cache_path(o.name).c_str());
    lock.unlink_file();  // removed worktrees leave no lock files behind
    doc["name"] = o.name;
    doc["removed"] = true;
    audit(repo, doc, "worktree_remove", "", o.name, {{"head_snapshot_id", cfg.head_snapshot_id}});
    return doc;
}

}  // namespace jvs
