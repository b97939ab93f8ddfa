// jvs_diff: what changed between two snapshots, or between a snapshot and the live worktree (what
// is unsaved). Snapshot sides come from manifests (stored hashes); the live side is scanned and
// takes hashes from the worktree's stat cache, reading only same-size files it has no trusted hash
// for. Read-only: nothing is written, not even the stat cache.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <unordered_map>

#include "engine/scan.hpp"
#include "util/beneath.hpp"
#include "ops/ops.hpp"
#include "repo/manifest.hpp"
#include "ops/snapshot_source.hpp"
#include "repo/refs.hpp"
#include "repo/snapshots.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {

// One side's view of a path.
struct Ent {
    char type = 'f';
    uint32_t perm = 0;
    uint64_t size = 0;
    HexDigest hash;          // files: content hash ("" = not known yet, live side); symlinks: hash of target
    std::string target;      // symlinks, when known
    const ScanStat *st = nullptr;  // live side only
};

struct Side {
    std::map<std::string, Ent> entries;  // path order does not matter here; output is sorted
    std::string snapshot_id;             // "" = the live worktree
    std::optional<Dir> root;             // the tree the paths are read beneath (opened when needed)
    std::string root_path;
};

const char *type_name(char t) { return t == 'd' ? "dir" : t == 'l' ? "symlink" : "file"; }

std::string mode_str(uint32_t perm) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", perm & 07777);
    return buf;
}

Side snapshot_side(const Repo &repo, const Descriptor &d, const std::vector<std::vector<std::string>> &scopes,
                   OpContext &ctx) {
    Side s;
    s.snapshot_id = d.snapshot_id;
    s.root_path = repo.snapshot_dir(d.snapshot_id);
    // Worktree names (a user's `.READY` comes back from its stored name), as on the live side.
    Manifest m = worktree_view(snapshot_manifest(repo, d, ctx));  // a compressed one inflated
    for (const auto &e : m) {
        bool ok = true;
        for (const auto &sc : scopes) ok = ok && in_scope(e.rel, sc);
        if (!ok) continue;
        Ent x;
        x.type = e.type;
        x.perm = e.perm;
        x.size = e.type == 'f' ? e.size : 0;
        x.hash = e.type == 'd' ? HexDigest() : e.hash;
        s.entries.emplace(e.rel, std::move(x));
    }
    return s;
}

// A snapshot symlink's target, read beneath the snapshot directory (under its stored name).
void fill_target(Side &s, const std::string &rel, Ent &e) {
    if (e.type != 'l' || !e.target.empty() || s.snapshot_id.empty()) return;
    if (!s.root) s.root = Dir::open_root(s.root_path);
    try {
        e.target = s.root->read_link(stored_rel(rel));
    } catch (const Error &) {
        // a snapshot damaged meanwhile: the target stays unknown (verify reports the damage)
    }
}

// The live side's content hash for a file: from the stat cache when trusted, else by reading it
// (beneath the worktree's root, never through a symlink).
void fill_live_hash(const Side &s, const std::string &rel, Ent &e, const StatCache &cache) {
    if (e.type != 'f' || !e.hash.empty() || !e.st) return;
    if (auto h = cache.lookup(rel, *e.st)) {
        e.hash = *h;
        return;
    }
    UniqueFd fd = s.root->open_regular(rel);
    e.hash = sha256_fd(fd.get(), s.root->display(rel));
}

// Whether `rel` is an entry of the tree: every ancestor a real directory (a path below a symlink
// is not in the tree, whatever the link points to).
bool in_tree(const Dir &root, const std::string &rel) {
    for (size_t pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1)) {
        auto st = root.lstat(rel.substr(0, pos));
        if (!st || !S_ISDIR(st->st_mode)) return false;
    }
    return root.lstat(rel).has_value();
}

void put_side(Doc &c, const char *prefix, Ent &e) {
    std::string p(prefix);
    if (e.type != 'l') c[p + "mode"] = mode_str(e.perm);
    if (e.type == 'f') c[p + "size"] = e.size;
    if (e.type == 'f' && !e.hash.empty()) c[p + "hash"] = e.hash.str();
    if (e.type == 'l') c[p + "target"] = e.target;
}

}  // namespace

Doc op_diff(const Session &s, const DiffOptions &o, OpContext &ctx) {
    const Repo &repo = s.repo;
    WorktreeConfig cfg = repo.load_worktree(o.worktree);  // E_WORKTREE_NOT_FOUND
    std::string from_ref = o.from.empty() ? "HEAD" : o.from;
    if (from_ref == "HEAD" && cfg.head_snapshot_id.empty())
        fail("E_NO_SNAPSHOTS", "worktree '" + cfg.name + "' has no snapshot yet",
             "take a snapshot first, or name the snapshots to compare", {{"worktree", cfg.name}});
    Descriptor from = resolve_ref(repo, cfg, from_ref).descriptor;
    std::optional<Descriptor> to;
    if (!o.to.empty()) to = resolve_ref(repo, cfg, o.to).descriptor;

    std::vector<std::vector<std::string>> scopes;
    if (!from.partial_paths.empty()) scopes.push_back(from.partial_paths);
    if (to && !to->partial_paths.empty()) scopes.push_back(to->partial_paths);

    ctx.phase("load", 0);
    Side a = snapshot_side(repo, from, scopes, ctx);
    Side b;
    std::vector<ScanEntry> scanned;  // owns the stat buffers the live side points at
    StatCache cache;
    if (to) {
        b = snapshot_side(repo, *to, scopes, ctx);
    } else {
        b.root_path = repo.payload_path(cfg.name);
        b.root = Dir::open_root_if_exists(b.root_path);
        if (!b.root)
            fail("E_WORKTREE_NOT_FOUND", "payload directory of worktree '" + cfg.name + "' is missing: " + b.root_path,
                 "run jvs doctor", {{"path", b.root_path}});
        // Scan only what the partial snapshot covers (and exists), like restore does.
        const std::vector<std::string> scope = scopes.empty() ? std::vector<std::string>{} : scopes[0];
        std::vector<std::string> present;
        for (const auto &p : scope)
            if (in_tree(*b.root, p)) present.push_back(p);
        ctx.phase("scan", 0);
        if (scope.empty() || !present.empty())
            scanned = scan_tree(*b.root, present, &ctx, TopReady::UserData, repo.adopted());
        cache = StatCache::load(repo.stat_cache_path(cfg.name));
        for (const auto &w : scanned) {
            if (!in_scope(w.rel, scope)) continue;
            Ent x;
            x.type = w.type;
            x.perm = static_cast<uint32_t>(w.st.st_mode & 07777);
            x.st = &w.st;
            if (w.type == 'f') x.size = static_cast<uint64_t>(w.st.st_size);
            if (w.type == 'l') {
                x.target = w.link_target;
                x.hash = sha256_hex(w.link_target);
            }
            b.entries.emplace(w.rel, std::move(x));
        }
    }

    Doc added = Doc::array(), removed = Doc::array(), modified = Doc::array();
    ctx.phase("compare", a.entries.size() + b.entries.size());
    for (auto &[rel, x] : a.entries) {
        auto it = b.entries.find(rel);
        if (it == b.entries.end()) {
            fill_target(a, rel, x);
            Doc c = {{"path", rel}, {"type", type_name(x.type)}};
            put_side(c, "old_", x);
            removed.push_back(std::move(c));
            continue;
        }
        Ent &y = it->second;
        std::string change;
        if (x.type != y.type) {
            change = "type";
        } else if (x.type == 'f') {
            if (x.size != y.size) {
                change = "content";
            } else {
                fill_live_hash(b, rel, y, cache);
                if (x.hash != y.hash) change = "content";
                else if (x.perm != y.perm) change = "mode";
            }
        } else if (x.type == 'l') {
            if (x.hash != y.hash) change = "target";
        } else if (x.perm != y.perm) {
            change = "mode";
        }
        ctx.advance(1);
        if (change.empty()) continue;
        fill_target(a, rel, x);
        fill_target(b, rel, y);
        if (!to && y.type == 'f' && y.st && y.hash.empty())
            if (auto h = cache.lookup(rel, *y.st)) y.hash = *h;  // known without reading: report it
        Doc c = {{"path", rel}, {"type", type_name(y.type)}, {"change", change}};
        if (change == "type") c["old_type"] = type_name(x.type);
        if (x.type != 'l') c["old_mode"] = mode_str(x.perm);
        if (y.type != 'l') c["new_mode"] = mode_str(y.perm);
        if (x.type == 'f') c["old_size"] = x.size;
        if (y.type == 'f') c["new_size"] = y.size;
        if (x.type == 'f' && !x.hash.empty()) c["old_hash"] = x.hash.str();
        if (y.type == 'f' && !y.hash.empty()) c["new_hash"] = y.hash.str();
        if (x.type == 'l') c["old_target"] = x.target;
        if (y.type == 'l') c["new_target"] = y.target;
        modified.push_back(std::move(c));
    }
    for (auto &[rel, y] : b.entries) {
        if (a.entries.count(rel)) continue;
        fill_target(b, rel, y);
        if (!to && y.type == 'f' && y.st)
            if (auto h = cache.lookup(rel, *y.st)) y.hash = *h;
        Doc c = {{"path", rel}, {"type", type_name(y.type)}};
        put_side(c, "new_", y);
        added.push_back(std::move(c));
        ctx.advance(1);
    }
    // std::map iteration is already bytewise path order; keep it explicit for the document's promise.
    auto by_path = [](const Doc &l, const Doc &r) {
        return l["path"].get<std::string>() < r["path"].get<std::string>();
    };
    std::sort(added.begin(), added.end(), by_path);
    std::sort(removed.begin(), removed.end(), by_path);
    std::sort(modified.begin(), modified.end(), by_path);

    Doc doc = make_doc("diff");
    doc["from_snapshot_id"] = from.snapshot_id;
    if (to) doc["to_snapshot_id"] = to->snapshot_id;
    else doc["to_worktree"] = cfg.name;
    Doc totals = {{"added", added.size()}, {"removed", removed.size()}, {"modified", modified.size()}};
    if (!o.stat) {
        doc["added"] = std::move(added);
        doc["removed"] = std::move(removed);
        doc["modified"] = std::move(modified);
    }
    doc["totals"] = std::move(totals);
    return doc;
}

}  // namespace jvs
