// jvs_diff: what changed between two snapshots, or between a snapshot and the live worktree (what
// is unsaved). Snapshot sides come from manifests (stored hashes); the live side is scanned and
// takes hashes from the worktree's stat cache, reading only same-size files it has no trusted hash
// for. Read-only: nothing is written, not even the stat cache.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>

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

// One side's view of a path, made when the path is compared (never held for the whole tree).
struct Ent {
    char type = 'f';
    uint32_t perm = 0;
    uint64_t size = 0;
    HexDigest hash;          // files: content hash ("" = not known yet, live side); symlinks: hash of target
    std::string target;      // symlinks, when known
    const ScanEntry *live = nullptr;  // live side only
};

// A side's entries in path order (path_less), limited to the partial snapshots' paths: a snapshot's
// manifest (worktree_view) or the live worktree's scan, held once, as loaded, and merged with the
// other side's (no second table of either).
struct Side {
    Manifest manifest;               // a snapshot
    std::vector<ScanEntry> scanned;  // the live worktree
    std::string snapshot_id;         // "" = the live worktree
    std::optional<Dir> root;         // the tree the paths are read beneath (opened when needed)
    std::string root_path;

    size_t size() const { return snapshot_id.empty() ? scanned.size() : manifest.size(); }
    const std::string &rel(size_t i) const { return snapshot_id.empty() ? scanned[i].rel : manifest[i].rel; }
    Ent ent(size_t i) const {
        Ent x;
        if (snapshot_id.empty()) {
            const ScanEntry &w = scanned[i];
            x.type = w.type;
            x.perm = static_cast<uint32_t>(w.st.st_mode & 07777);
            x.live = &w;
            if (w.type == 'f') x.size = static_cast<uint64_t>(w.st.st_size);
            if (w.type == 'l') {
                x.target = w.link_target;
                x.hash = sha256_hex(w.link_target.str());
            }
            return x;
        }
        const ManifestEntry &e = manifest[i];
        x.type = e.type;
        x.perm = e.perm;
        x.size = e.type == 'f' ? e.size : 0;
        x.hash = e.type == 'd' ? HexDigest() : e.hash;
        return x;
    }
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
    s.manifest = worktree_view(snapshot_manifest(repo, d, ctx));  // a compressed one inflated
    std::erase_if(s.manifest, [&](const ManifestEntry &e) {
        for (const auto &sc : scopes)
            if (!in_scope(e.rel, sc)) return true;
        return false;
    });
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
    if (e.type != 'f' || !e.hash.empty() || !e.live) return;
    if (auto h = cache.lookup(rel, e.live->st)) {
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
            b.scanned = scan_tree(*b.root, present, &ctx, TopReady::UserData, repo.adopted());
        cache = StatCache::load(repo.stat_cache_path(cfg.name));
        std::erase_if(b.scanned, [&](const ScanEntry &w) { return !in_scope(w.rel, scope); });
    }

    // Both sides are in path order: one merge pairs them. --stat only counts (no list is held).
    Doc added = Doc::array(), removed = Doc::array(), modified = Doc::array();
    size_t n_added = 0, n_removed = 0, n_modified = 0;
    auto keep = [&](Doc &list, size_t &n, Doc c) {
        n++;
        if (!o.stat) list.push_back(std::move(c));
    };
    auto removed_entry = [&](const std::string &rel, Ent x) {
        fill_target(a, rel, x);
        Doc c = {{"path", rel}, {"type", type_name(x.type)}};
        put_side(c, "old_", x);
        keep(removed, n_removed, std::move(c));
    };
    auto added_entry = [&](const std::string &rel, Ent y) {
        fill_target(b, rel, y);
        if (!to && y.type == 'f' && y.live)
            if (auto h = cache.lookup(rel, y.live->st)) y.hash = *h;
        Doc c = {{"path", rel}, {"type", type_name(y.type)}};
        put_side(c, "new_", y);
        keep(added, n_added, std::move(c));
        ctx.advance(1);
    };
    auto compared = [&](const std::string &rel, Ent x, Ent y) {
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
        if (change.empty()) return;
        fill_target(a, rel, x);
        fill_target(b, rel, y);
        if (!to && y.type == 'f' && y.live && y.hash.empty())
            if (auto h = cache.lookup(rel, y.live->st)) y.hash = *h;  // known without reading: report it
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
        keep(modified, n_modified, std::move(c));
    };
    ctx.phase("compare", a.size() + b.size());
    for (size_t i = 0, j = 0; i < a.size() || j < b.size();) {
        if (j == b.size() || (i < a.size() && path_less(a.rel(i), b.rel(j)))) {
            removed_entry(a.rel(i), a.ent(i)), i++;
        } else if (i == a.size() || path_less(b.rel(j), a.rel(i))) {
            added_entry(b.rel(j), b.ent(j)), j++;
        } else {
            compared(a.rel(i), a.ent(i), b.ent(j)), i++, j++;
        }
    }
    // Listed in bytewise path order (the merge ran in component order).
    auto by_path = [](const Doc &l, const Doc &r) {
        return l.at("path").get_ref<const std::string &>() < r.at("path").get_ref<const std::string &>();
    };
    std::sort(added.begin(), added.end(), by_path);
    std::sort(removed.begin(), removed.end(), by_path);
    std::sort(modified.begin(), modified.end(), by_path);

    Doc doc = make_doc("diff");
    doc["from_snapshot_id"] = from.snapshot_id;
    if (to) doc["to_snapshot_id"] = to->snapshot_id;
    else doc["to_worktree"] = cfg.name;
    Doc totals = {{"added", n_added}, {"removed", n_removed}, {"modified", n_modified}};
    if (!o.stat) {
        doc["added"] = std::move(added);
        doc["removed"] = std::move(removed);
        doc["modified"] = std::move(modified);
    }
    doc["totals"] = std::move(totals);
    return doc;
}

}  // namespace jvs
