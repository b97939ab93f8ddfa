// jvs_snapshot: publish an immutable copy of a worktree (or of some of its paths).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <unordered_map>

#include "engine/engine.hpp"
#include "engine/juicefs.hpp"
#include "engine/scan.hpp"
#include "engine/select.hpp"
#include "format/descriptor.hpp"
#include "format/ids.hpp"
#include "ops/ops.hpp"
#include "repo/config.hpp"
#include "repo/manifest.hpp"
#include "repo/snapshots.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"
#include "util/parallel.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

struct Inputs {
    std::vector<std::string> tags, paths;
};

Inputs validate_inputs(const SnapshotOptions &o) {
    validate_note(o.note);
    Inputs in;
    for (const auto &t : o.tags) {
        validate_tag(t);
        if (std::find(in.tags.begin(), in.tags.end(), t) == in.tags.end()) in.tags.push_back(t);
    }
    for (const auto &p : o.paths) {
        std::string c = clean_relative_path(p);
        if (std::find(in.paths.begin(), in.paths.end(), c) == in.paths.end()) in.paths.push_back(c);
    }
    return in;
}

// A partial path must not pass through a symlink: it would snapshot a tree that is not the
// worktree's, or one outside the repository altogether.
void check_path_inside(const std::string &payload, const std::string &rel) {
    std::string root_real = real_path(payload);
    for (size_t pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1)) {
        std::string anc = rel.substr(0, pos);
        auto st = lstat_path(path_join(payload, anc));
        if (!st)
            fail("E_PATH_NOT_FOUND", "path '" + rel + "' does not exist in the worktree",
                 "paths are relative to the worktree root", {{"path", rel}});
        if (S_ISLNK(st->st_mode)) {
            std::string target = real_path(path_join(payload, anc));
            bool inside = target == root_real || target.rfind(root_real + "/", 0) == 0;
            fail(inside ? "E_PATH_INVALID" : "E_PATH_ESCAPE",
                 "path '" + rel + "' passes through the symlink '" + anc + "'" + (inside ? "" : " which leads outside the worktree"),
                 "name the real path inside the worktree instead", {{"path", rel}, {"symlink", anc}});
        }
        if (!S_ISDIR(st->st_mode))
            fail("E_PATH_NOT_FOUND", "path '" + rel + "': '" + anc + "' is not a directory", "check the path",
                 {{"path", rel}});
    }
}

struct Built {
    Manifest manifest;
    nlohmann::ordered_json stats;
    nlohmann::ordered_json degradations = nlohmann::ordered_json::array();
    std::string engine;  // what actually ran
};

// One degradation entry for all files that had to be copied instead of cloned.
void report_fallbacks(Built &b, const std::vector<std::string> &paths, const char *kind, const std::string &why) {
    if (paths.empty()) return;
    std::string list;
    for (size_t i = 0; i < paths.size() && i < 10; i++) list += (i ? ", " : "") + paths[i];
    if (paths.size() > 10) list += ", ...";
    b.degradations.push_back(Degradation{kind, paths[0],
                                         std::to_string(paths.size()) + " file(s) copied instead of cloned (" + why +
                                             "): " + list}
                                 .to_json());
}

// Materialises the scanned entries into `tmp`, linking files unchanged since the parent snapshot.
Built materialise(const std::vector<ScanEntry> &entries, const std::string &payload, const std::string &tmp,
                  const std::string &parent_dir, const Manifest *parent, StatCache &cache, CopyMethod method,
                  OpContext &ctx) {
    Built b;
    auto parent_idx = parent ? index_manifest(*parent) : std::unordered_map<std::string, const ManifestEntry *>{};
    std::vector<size_t> files;
    std::map<std::pair<uint64_t, uint64_t>, std::vector<std::string>> hardlinks;
    uint64_t dirs = 0, links = 0, total_bytes = 0;
    for (size_t i = 0; i < entries.size(); i++) {
        const auto &e = entries[i];
        if (e.type == 'd') {
            create_dir(path_join(tmp, e.rel));
            dirs++;
        } else if (e.type == 'l') {
            create_symlink(e.link_target, path_join(tmp, e.rel), e.st);
            links++;
        } else {
            files.push_back(i);
            total_bytes += static_cast<uint64_t>(e.st.st_size);
            if (e.st.st_nlink > 1) hardlinks[{e.st.st_dev, e.st.st_ino}].push_back(e.rel);
        }
    }
    std::vector<std::string> hashes(entries.size());
    std::vector<uint64_t> sizes(entries.size());
    std::vector<char> how(entries.size(), 0);  // 'l' linked, 'c' copied, 'r' cloned, 'f' clone refused
    std::vector<char> read_for_hash(entries.size(), 0);
    std::vector<std::vector<std::string>> dropped_xattrs(entries.size());
    ctx.phase("copy", files.size(), total_bytes);
    parallel_for(files.size(), &ctx, [&](size_t k) -> uint64_t {
        if (k == files.size() / 2) fault_point("snapshot.mid_copy");
        size_t i = files[k];
        const ScanEntry &e = entries[i];
        std::string src = path_join(payload, e.rel), dst = path_join(tmp, e.rel);
        auto cached = cache.lookup(e.rel, e.st);
        auto pit = parent_idx.find(e.rel);
        const ManifestEntry *pm = pit == parent_idx.end() ? nullptr : pit->second;
        if (cached && pm && pm->type == 'f' && pm->hash == *cached && pm->perm == (e.st.st_mode & 07777) &&
            pm->size == static_cast<uint64_t>(e.st.st_size) && pm->mtime_ns == mtime_ns(e.st) &&
            try_hardlink(path_join(parent_dir, e.rel), dst)) {
            hashes[i] = *cached;
            sizes[i] = pm->size;
            how[i] = 'l';
            return 0;
        }
        // A hash the stat cache vouches for is not computed again: the file is cloned (or copied)
        // without reading it, and the hash is kept only if the source's stat did not change
        // while its data was taken; otherwise what dst holds is hashed.
        CopyOutcome out = copy_file(src, dst, &e.st, cached ? nullptr : &hashes[i], method);
        bool unchanged = StatKey::of(out.src_after) == StatKey::of(e.st) &&
                         out.bytes == static_cast<uint64_t>(e.st.st_size);
        if (cached && !unchanged) hashes[i] = sha256_file(dst);
        else if (cached) hashes[i] = *cached;
        read_for_hash[i] = !cached || !unchanged;
        sizes[i] = out.bytes;
        how[i] = out.cloned ? 'r' : out.fell_back ? 'f' : 'c';
        dropped_xattrs[i] = std::move(out.dropped_xattrs);
        // Cached only if it provably did not change while read. A write after the read moves the
        // ctime even within the same clock tick on kernels with multigrain timestamps (6.13+: a
        // change after a stat gets a fine-grained stamp); older kernels rely on the racy-clean rule.
        if (unchanged && !cached) cache.put(e.rel, e.st, hashes[i]);
        return sizes[i];
    });
    // Directory modes and mtimes last, deepest first.
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        if (it->type != 'd') continue;
        for (const auto &x : copy_xattrs(path_join(payload, it->rel), path_join(tmp, it->rel)))
            b.degradations.push_back(Degradation{"xattr_dropped", it->rel, x}.to_json());
        finish_dir(path_join(tmp, it->rel), it->st);
    }
    uint64_t linked = 0, copied = 0, cloned = 0, bytes_copied = 0, hashed = 0, bytes_hashed = 0;
    std::vector<std::string> refused;
    b.manifest.reserve(entries.size());
    for (size_t i = 0; i < entries.size(); i++) {
        const auto &e = entries[i];
        ManifestEntry m{e.type, e.rel, static_cast<uint32_t>(e.st.st_mode & 07777), 0, mtime_ns(e.st), {}};
        if (e.type == 'f') {
            m.size = sizes[i];
            m.hash = hashes[i];
            if (how[i] == 'l') linked++;
            if (how[i] == 'r') cloned++;
            if (how[i] == 'c' || how[i] == 'f') copied++, bytes_copied += sizes[i];
            if (how[i] == 'f') refused.push_back(e.rel);
            if (read_for_hash[i]) hashed++, bytes_hashed += sizes[i];
            for (const auto &x : dropped_xattrs[i])
                b.degradations.push_back(Degradation{"xattr_dropped", e.rel, x}.to_json());
        } else if (e.type == 'l') {
            m.hash = sha256_hex(e.link_target);
        } else {
            m.hash = sha256_hex(base_name(e.rel));
        }
        b.manifest.push_back(std::move(m));
    }
    for (const auto &[inode, paths] : hardlinks) {
        if (paths.size() < 2) continue;  // the other links live outside the worktree or scope
        std::string all;
        for (const auto &p : paths) all += (all.empty() ? "" : ", ") + p;
        b.degradations.push_back(
            Degradation{"hardlink_split", paths[0], "hard-linked paths stored as separate files: " + all}.to_json());
    }
    report_fallbacks(b, refused, "reflink_fallback", "the filesystem refused FICLONE");
    b.engine = engine_name(cloned > 0 || (method == CopyMethod::Reflink && refused.empty()) ? EngineKind::Reflink
                                                                                              : EngineKind::Copy);
    if (method != CopyMethod::Reflink) b.engine = engine_name(EngineKind::Copy);
    b.stats = {{"files", files.size()},        {"dirs", dirs},                 {"symlinks", links},
               {"files_hashed", hashed},       {"files_linked", linked},       {"files_copied", copied},
               {"files_cloned", cloned},       {"bytes_copied", bytes_copied}, {"bytes_hashed", bytes_hashed}};
    return b;
}

// JuiceFS: one metadata-only `juicefs clone` of the worktree (or of each partial path) into the
// staging directory, then hashes only what the stat cache cannot vouch for. Returns false (leaving
// `tmp` as an empty directory) when the clone fails, so the caller copies instead and says why.
//
// No scan precedes the clone. One scan of the worktree follows it: an entry whose ctime (and mtime)
// predates the clone's start has not changed since (any write, rename, chmod or entry added to or
// removed from a directory moves the ctime of what it touches to at least the clock at that
// moment), so when the whole tree is settled that scan describes the clone exactly and the clone
// needs no scan of its own. Otherwise the clone is scanned too and only the settled files that
// agree with their clone are trusted.
bool materialise_juicefs(const std::vector<std::string> &paths, const std::string &payload, const std::string &tmp,
                         StatCache &cache, OpContext &ctx, Built &b, std::string *why) {
    ctx.phase("clone", 0);
    const int64_t clone_started_ns = stamp_clock_ns();
    bool ok = true;
    if (paths.empty()) {
        ::rmdir(tmp.c_str());  // juicefs clone creates the destination itself
        ok = juicefs_clone(payload, tmp, why);
        if (!ok) mkdir_exact(tmp, 0755);
    } else {
        for (const auto &p : paths) {
            for (size_t pos = p.find('/'); pos != std::string::npos; pos = p.find('/', pos + 1)) {
                auto st = lstat_path(path_join(payload, p.substr(0, pos)));
                if (st && !is_directory(path_join(tmp, p.substr(0, pos)))) {
                    create_dir(path_join(tmp, p.substr(0, pos)));
                    finish_dir(path_join(tmp, p.substr(0, pos)), *st);
                }
            }
            if (!(ok = juicefs_clone(path_join(payload, p), path_join(tmp, p), why))) break;
        }
        if (!ok) {
            remove_tree(tmp);
            mkdir_exact(tmp, 0755);
        }
    }
    if (!ok) return false;
    ::unlink(path_join(tmp, ".READY").c_str());  // a marker the Go tool leaked into the worktree
    auto settled = [&](const struct stat &st) { return ctime_ns(st) < clone_started_ns && mtime_ns(st) < clone_started_ns; };
    std::vector<ScanEntry> worktree = scan_tree(payload, paths, &ctx);  // E_SPECIAL_FILE: tmp is removed
    // Partial snapshots: ancestors were made here, after the clone started; only the paths count.
    bool all_settled = paths.empty() && std::all_of(worktree.begin(), worktree.end(),
                                                    [&](const ScanEntry &e) { return settled(e.st); });
    std::vector<ScanEntry> clone_scan;
    if (!all_settled) clone_scan = scan_tree(tmp, paths, &ctx);
    const std::vector<ScanEntry> &entries = all_settled ? worktree : clone_scan;
    std::unordered_map<std::string, const struct stat *> wt;
    if (!all_settled)
        for (const auto &e : worktree) wt.emplace(e.rel, &e.st);
    std::vector<std::string> hashes(entries.size());
    std::vector<size_t> files;
    uint64_t dirs = 0, links = 0, total = 0;
    for (size_t i = 0; i < entries.size(); i++) {
        if (entries[i].type == 'f') files.push_back(i), total += static_cast<uint64_t>(entries[i].st.st_size);
        dirs += entries[i].type == 'd';
        links += entries[i].type == 'l';
    }
    std::atomic<uint64_t> hashed{0}, bytes_hashed{0};
    ctx.phase("hash", files.size(), total);
    parallel_for(files.size(), &ctx, [&](size_t k) -> uint64_t {
        const ScanEntry &c = entries[files[k]];
        const struct stat *w = &c.st;
        if (!all_settled) {
            auto it = wt.find(c.rel);
            w = it == wt.end() ? nullptr : it->second;
        }
        // Settled and agreeing with its clone: the clone holds the content of this worktree stat.
        bool steady = w && settled(*w) && w->st_size == c.st.st_size && mtime_ns(*w) == mtime_ns(c.st) &&
                      (w->st_mode & 07777) == (c.st.st_mode & 07777);
        if (auto cached = steady ? cache.lookup(c.rel, *w) : std::nullopt) {
            hashes[files[k]] = *cached;
            return 0;
        }
        // The clone is read, never the worktree: it is what the snapshot holds, and on a volume other
        // hosts write this host's JuiceFS client keeps serving a file's cached bytes while its mtime
        // is unchanged (a rewrite with the mtime put back reads stale here). The clone's inodes are
        // new to this client.
        hashes[files[k]] = sha256_file(path_join(tmp, c.rel));
        if (steady) cache.put(c.rel, *w, hashes[files[k]]);
        hashed++;
        bytes_hashed += static_cast<uint64_t>(c.st.st_size);
        return static_cast<uint64_t>(c.st.st_size);
    });
    for (size_t i = 0; i < entries.size(); i++) {
        const auto &e = entries[i];
        ManifestEntry m{e.type, e.rel, static_cast<uint32_t>(e.st.st_mode & 07777), 0, mtime_ns(e.st), {}};
        if (e.type == 'f') m.size = static_cast<uint64_t>(e.st.st_size), m.hash = hashes[i];
        else m.hash = sha256_hex(e.type == 'l' ? e.link_target : base_name(e.rel));
        b.manifest.push_back(std::move(m));
    }
    b.engine = engine_name(EngineKind::Juicefs);
    b.stats = {{"files", files.size()},   {"dirs", dirs},          {"symlinks", links},
               {"files_hashed", hashed.load()}, {"files_linked", 0}, {"files_copied", 0},
               {"files_cloned", files.size()},  {"bytes_copied", 0}, {"bytes_hashed", bytes_hashed.load()}};
    return true;
}

}  // namespace

Doc op_snapshot(const Session &s, const SnapshotOptions &o, OpContext &ctx) {
    const Repo &repo = s.repo;
    Inputs in = validate_inputs(o);
    // config.yaml default_tags join the given tags, as in the Go tool (validated when loaded).
    for (const auto &t : load_repo_config(repo).default_tags)
        if (std::find(in.tags.begin(), in.tags.end(), t) == in.tags.end()) in.tags.push_back(t);
    FileLock lock = lock_worktree(repo, o.worktree, o.lock_timeout_ms, "snapshot", &ctx);
    WorktreeConfig cfg = repo.load_worktree(o.worktree);
    if (cfg.detached())
        fail("E_DETACHED",
             "worktree '" + cfg.name + "' is detached at " + cfg.head_snapshot_id + " (latest is " +
                 cfg.latest_snapshot_id + ")",
             "run `jvs restore HEAD` to return to the latest snapshot, or `jvs worktree fork` to branch from here",
             {{"worktree", cfg.name}, {"head_snapshot_id", cfg.head_snapshot_id},
              {"latest_snapshot_id", cfg.latest_snapshot_id}});
    std::string payload = repo.payload_path(cfg.name);
    if (!is_directory(payload))
        fail("E_WORKTREE_NOT_FOUND", "payload directory of worktree '" + cfg.name + "' is missing: " + payload,
             "run jvs doctor", {{"path", payload}});
    for (const auto &p : in.paths) check_path_inside(payload, p);

    EngineChoice engine = choose_engine(repo, true);
    // A whole-tree JuiceFS snapshot scans once, after its clone (see materialise_juicefs); every
    // other snapshot scans first, so a special file fails it before anything is written.
    const bool scan_after_clone = engine.kind == EngineKind::Juicefs && in.paths.empty();
    ctx.phase("scan", 0);
    std::vector<ScanEntry> entries;
    if (!scan_after_clone) entries = scan_tree(payload, in.paths, &ctx);
    StatCache cache = StatCache::load(repo.stat_cache_path(cfg.name));
    std::string parent_id = !cfg.head_snapshot_id.empty() ? cfg.head_snapshot_id : cfg.base_snapshot_id;
    std::optional<Manifest> parent;
    if (!parent_id.empty() && is_published(repo, parent_id)) parent = read_manifest(repo.manifest_path(parent_id));

    repo.ensure_private_dirs();
    Descriptor d;
    d.snapshot_id = new_snapshot_id();
    d.parent_id = parent_id;
    d.worktree_name = cfg.name;
    d.note = o.note;
    d.tags = in.tags;
    d.engine = kCopyEngine;  // replaced by the engine that actually ran
    d.integrity_state = "verified";
    d.partial_paths = in.paths;
    std::string tmp = repo.snapshot_dir(d.snapshot_id) + ".tmp";
    std::string final_dir = repo.snapshot_dir(d.snapshot_id);
    atomic_write(repo.intent_path(d.snapshot_id),
                 intent_bytes(d.snapshot_id, cfg.name, now_utc(), engine_name(engine.kind)), 0644);
    fault_point("snapshot.after_intent");
    Built built;
    try {
        mkdir_exact(tmp, 0755);
        std::string why;
        bool cloned = engine.kind == EngineKind::Juicefs &&
                      materialise_juicefs(in.paths, payload, tmp, cache, ctx, built, &why);
        if (!cloned) {
            if (scan_after_clone) entries = scan_tree(payload, in.paths, &ctx);
            built = materialise(entries, payload, tmp, parent ? repo.snapshot_dir(parent_id) : std::string(),
                                parent ? &*parent : nullptr, cache, copy_method(engine), ctx);
            if (engine.kind == EngineKind::Juicefs)
                built.degradations.push_back(Degradation{"clone_fallback", ".", why}.to_json());
            if (!engine.shortfall.empty())
                built.degradations.push_back(Degradation{"clone_fallback", ".", engine.shortfall}.to_json());
        }
        d.engine = built.engine;
        fault_point("snapshot.after_copy");
        std::vector<PayloadEntry> pe;
        pe.reserve(built.manifest.size());
        for (const auto &m : built.manifest) pe.push_back(m.payload());
        d.payload_root_hash = payload_root_hash(pe);
        d.created_at = now_utc();
        d.descriptor_checksum = descriptor_checksum(d);
        write_manifest(repo.manifest_path(d.snapshot_id), built.manifest);
        fault_point("snapshot.after_manifest");
        atomic_write(path_join(tmp, ".READY"), ready_marker(d, now_utc()), 0644);
        fault_point("snapshot.after_ready");
        ctx.phase("sync", 0);
        // One filesystem-wide flush instead of an fsync per file: everything written above is
        // durable before the rename below makes the directory reachable under its final name.
        sync_filesystem(tmp);
        ctx.check_cancelled();  // the last point at which cancelling leaves no trace
        if (::rename(tmp.c_str(), final_dir.c_str()) != 0) fail_errno(errno, "rename", final_dir);
        fsync_path(repo.snapshots_dir());
        fault_point("snapshot.after_rename");
        atomic_write(repo.descriptor_path(d.snapshot_id), serialize_descriptor(d), 0644);  // publish
    } catch (...) {
        remove_tree(tmp);
        if (!exists_nofollow(repo.descriptor_path(d.snapshot_id))) {
            remove_tree(final_dir);
            ::unlink(repo.manifest_path(d.snapshot_id).c_str());
        }
        ::unlink(repo.intent_path(d.snapshot_id).c_str());
        throw;
    }
    fault_point("snapshot.after_descriptor");
    cfg.head_snapshot_id = cfg.latest_snapshot_id = d.snapshot_id;
    repo.save_worktree(cfg);
    fault_point("snapshot.after_config");
    Doc doc = make_doc("snapshot");
    doc["snapshot"] = descriptor_to_json(d);
    doc["engine"] = built.engine;
    doc["stats"] = built.stats;
    doc["degradations"] = built.degradations;
    try {
        cache.save(repo.stat_cache_path(cfg.name));
    } catch (const Error &e) {
        doc["warnings"].push_back({{"code", e.code}, {"message", "stat cache not saved: " + e.message}});
    }
    nlohmann::json details = {{"checksum", d.descriptor_checksum}, {"engine", d.engine}, {"note", d.note}};
    if (!d.partial_paths.empty()) details["partial_paths"] = d.partial_paths;
    audit(repo, doc, "snapshot_create", d.snapshot_id, cfg.name, details);
    fault_point("snapshot.after_audit");
    ::unlink(repo.intent_path(d.snapshot_id).c_str());
    return doc;
}

}  // namespace jvs
