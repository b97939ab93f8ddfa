#include "ops/checkout.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <set>

#include "engine/engine.hpp"
#include "engine/scan.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/memory.hpp"
#include "util/names.hpp"
#include "util/parallel.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {
// A `.READY` at the worktree root that holds a snapshot marker is a leftover of the Go tool's
// restore/fork (it copied the marker into worktrees); it is control data, never user data (the
// scan leaves it out). Read beneath the root: a symlink there is data, never followed.
bool is_leaked_marker(const Dir &dir) {
    auto raw = dir.read_small_file(".READY", 4097);
    return raw && raw->size() <= 4096 && is_snapshot_marker(*raw);
}

// Calls fn(m, w) for each entry m of the snapshot's view, with w the worktree entry at the same path
// (nullptr when the worktree has none there in scope), by one merge of the two lists: both are in
// path order (worktree_view, scan_tree), so no index over either is built (a hash map of a million
// paths would cost more memory than the entries themselves).
template <class Fn>
void for_each_pair(const Manifest &view, const std::vector<ScanEntry> &worktree, const std::vector<std::string> &scope,
                   Fn fn) {
    size_t j = 0;
    for (const auto &m : view) {
        while (j < worktree.size() && path_less(worktree[j].rel, m.rel)) j++;
        bool found = j < worktree.size() && worktree[j].rel == m.rel && in_scope(m.rel, scope);
        fn(m, found ? &worktree[j] : nullptr);
    }
}

// The hashes of the worktree files hash_uncached read, by entry (in worktree order).
struct Hashed {
    std::vector<const ScanEntry *> files;  // increasing addresses: looked up by binary search
    std::vector<HexDigest> hashes;
    const HexDigest *find(const ScanEntry *w) const {
        auto it = std::lower_bound(files.begin(), files.end(), w);
        return it != files.end() && *it == w ? &hashes[it - files.begin()] : nullptr;
    }
};

// Worktree files whose content must be read to compare them (same size as in the snapshot, no
// stat-cache entry) are hashed up front, in parallel; a hash enters the cache only if the file kept
// its scanned stat while it was read.
Hashed hash_uncached(const Dir &dir, const Manifest &view, const std::vector<ScanEntry> &worktree,
                     const std::vector<std::string> &scope, StatCache &cache, OpContext &ctx) {
    Hashed out;
    uint64_t bytes = 0;
    for_each_pair(view, worktree, scope, [&](const ManifestEntry &m, const ScanEntry *w) {
        if (m.type != 'f' || !w || w->type != 'f') return;
        if (static_cast<uint64_t>(w->st.st_size) == m.size && !cache.lookup(w->rel, w->st))
            out.files.push_back(w), bytes += m.size;
    });
    out.hashes.resize(out.files.size());
    ctx.phase("hash", out.files.size(), bytes);
    parallel_for(out.files.size(), &ctx, [&](size_t i) -> uint64_t {
        const ScanEntry &w = *out.files[i];
        struct stat before {}, after {};
        UniqueFd fd = dir.open_regular(w.rel, &before);
        std::string hash = sha256_fd(fd.get(), dir.display(w.rel));
        if (::fstat(fd.get(), &after) == 0 && StatKey::of(before) == StatKey::of(w.st) &&
            StatKey::of(after) == StatKey::of(w.st))
            cache.put(w.rel, w.st, hash);
        out.hashes[i] = hash;
        return static_cast<uint64_t>(w.st.st_size);
    });
    return out;
}

bool same_content(const ScanEntry &w, const ManifestEntry &m, const StatCache &cache, const Hashed &hashed) {
    if (w.type == 'l') return m.hash == sha256_hex(w.link_target.str());
    if (static_cast<uint64_t>(w.st.st_size) != m.size) return false;
    if (auto cached = cache.lookup(w.rel, w.st)) return m.hash == *cached;
    const HexDigest *h = hashed.find(&w);
    return h && m.hash == *h;
}

bool same_metadata(const ScanEntry &w, const ManifestEntry &m) {
    if (w.type == 'l') return true;  // a symlink's own mode and times carry no meaning on Linux
    return (w.st.st_mode & 07777) == m.perm && w.st.mtime_ns == m.mtime_ns;
}

// The directories a checkout adds entries to or removes entries from must be writable by their owner
// while it runs: a user may have made one read-only (0555), and without root that refuses every
// temp file and rename in it. Each such directory gets u+wx for the duration; the snapshot's own
// modes are set at the end anyway (finish_dir), and any other keeps the mode it had. Directories are
// reached beneath the worktree (util/beneath), so a symlink swapped in is never followed.
class WritableDirs {
   public:
    WritableDirs(const Dir &root, const CheckoutPlan &plan) {
        std::set<std::string> parents;
        for (const auto &c : plan.changes)
            if (c.action != "metadata") parents.insert(c.rel().find('/') == std::string::npos ? "" : parent_path(c.rel()));
        for (const auto &rel : parents) {
            std::optional<Dir> d;
            try {
                d = rel.empty() ? std::optional<Dir>(root.dir("")) : root.dir_if_exists(rel);
            } catch (const Error &) {
                continue;  // a symlink or file there now: the checkout replaces it (or refuses)
            }
            if (!d) continue;  // made by this checkout (mode 0700 until finished)
            struct stat st = d->stat_self();
            if ((st.st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR)) continue;
            if (::fchmod(d->fd(), (st.st_mode & 07777) | S_IWUSR | S_IXUSR) != 0) continue;  // not ours: EACCES later
            relaxed_.push_back({std::move(*d), static_cast<mode_t>(st.st_mode & 07777), rel});
        }
    }
    // Directories the checkout finishes (their snapshot mode) need not be put back.
    void finished(const std::vector<const ManifestEntry *> &dirs) {
        std::set<std::string> done;
        for (const auto *m : dirs) done.insert(m->rel);
        relaxed_.erase(std::remove_if(relaxed_.begin(), relaxed_.end(), [&](const Relaxed &r) { return done.count(r.rel); }),
                       relaxed_.end());
    }
    ~WritableDirs() {
        for (const auto &r : relaxed_)
            if (::fchmod(r.dir.fd(), r.mode) != 0) {
            }  // best effort: the directory was ours to chmod a moment ago
    }

   private:
    struct Relaxed {
        Dir dir;
        mode_t mode;
        std::string rel;
    };
    std::vector<Relaxed> relaxed_;
};

// A name beside the target in the same directory (same fd), so the rename is atomic.
Entry temp_beside(const Entry &dst, const Dir &dir, const std::string &rel) {
    static std::atomic<uint64_t> n{0};
    Entry t = dst;
    t.name = ".jvs-tmp-restore-" + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1));
    std::string parent(split_parent(rel).first);
    t.display = dir.display(parent.empty() ? t.name : parent + "/" + t.name);
    return t;
}

// A partial path's ancestors that exist in the worktree must be real directories: restore writes
// below them and never through a symlink, and never replaces what lies outside the snapshot's
// paths. Checked before anything is written (dry runs too).
void check_scope_parents(const Dir &dir, const std::vector<std::string> &scope) {
    for (const auto &p : scope) {
        for (size_t pos = p.find('/'); pos != std::string::npos; pos = p.find('/', pos + 1)) {
            std::string anc = p.substr(0, pos);
            auto st = dir.lstat(anc);
            if (!st) break;  // missing from here on: restore creates it
            if (S_ISLNK(st->st_mode))
                fail("E_PATH_ESCAPE",
                     "restoring '" + p + "' would write through the symlink '" + anc +
                         "' in the worktree (jvs never follows links inside a worktree)",
                     "remove or rename the symlink '" + anc + "' and restore again, or restore a full snapshot",
                     {{"path", p}, {"symlink", anc}});
            if (!S_ISDIR(st->st_mode))
                fail("E_PATH_CONFLICT",
                     "restoring '" + p + "' needs a directory at '" + anc + "', where the worktree has a file",
                     "move '" + anc + "' away and restore again, or restore a full snapshot",
                     {{"path", p}, {"conflict", anc}});
        }
    }
}
}  // namespace

nlohmann::ordered_json CheckoutStats::to_json() const {
    return {{"created", created},     {"updated", updated},     {"deleted", deleted},      {"metadata", metadata},
            {"unchanged", unchanged}, {"bytes_written", bytes_written}, {"files_cloned", cloned}};
}

CheckoutPlan plan_checkout(const Dir &dir, Manifest manifest, const std::vector<std::string> &scope,
                           StatCache &cache, OpContext &ctx, bool skip_control) {
    CheckoutPlan plan;
    plan.view = worktree_view(std::move(manifest));
    if (skip_control)
        std::erase_if(plan.view, [](const ManifestEntry &m) { return in_control_dir(m.rel); });
    check_scope_parents(dir, scope);
    std::vector<std::string> present;
    for (const auto &p : scope)
        if (dir.lstat(p)) present.push_back(p);
    ctx.phase("scan", 0);
    std::vector<ScanEntry> worktree = scope.empty() || !present.empty()
                                          ? scan_tree(dir, present, &ctx, TopReady::UserData, skip_control)
                                          : std::vector<ScanEntry>{};
    auto hashed = hash_uncached(dir, plan.view, worktree, scope, cache, ctx);
    ctx.phase("compare", plan.view.size());
    // Per worktree entry: whether the snapshot holds its path (in scope), then whether it goes.
    enum : char { kUnknown, kKept, kGoes };
    std::vector<char> fate(worktree.size(), kUnknown);
    for_each_pair(plan.view, worktree, scope, [&](const ManifestEntry &m, const ScanEntry *w) {
        bool scoped = in_scope(m.rel, scope);
        if (!scoped && m.type != 'd') return;
        if (!scoped) {  // an ancestor of a partial path: make sure it exists, leave the rest alone
            if (!dir.lstat(m.rel)) {
                plan.changes.push_back({&m.rel, "mkdir", &m, 0});
                plan.dirs_in_scope.push_back(&m);
            }
            return;
        }
        if (w) fate[w - worktree.data()] = kKept;
        if (m.type == 'd') plan.dirs_in_scope.push_back(&m);
        if (!w) {
            plan.changes.push_back({&m.rel, m.type == 'd' ? "mkdir" : "create", &m, 0});
        } else if (w->type != m.type) {
            plan.changes.push_back({&m.rel, w->type == 'd' ? "rmdir" : "delete", nullptr, w->type});
            plan.changes.push_back({&m.rel, m.type == 'd' ? "mkdir" : "create", &m, 0});
        } else if (m.type != 'd' && !same_content(*w, m, cache, hashed)) {
            plan.changes.push_back({&m.rel, "update", &m, w->type});
        } else if (!same_metadata(*w, m)) {
            plan.changes.push_back({&m.rel, "metadata", &m, w->type});
        } else {
            plan.unchanged++;
        }
        ctx.advance(1);
    });
    // Whatever the snapshot does not hold goes, deepest first; a removed directory takes its subtree,
    // which follows it in the (pre-order) scan: one pass finds the topmost entries that go.
    const ScanEntry *going = nullptr;  // the last entry found to go: what lies below it goes with it
    for (size_t j = 0; j < worktree.size(); j++) {
        const ScanEntry &w = worktree[j];
        if (going && path_within(w.rel, going->rel)) continue;
        going = nullptr;
        if (!in_scope(w.rel, scope) || fate[j] == kKept) continue;
        fate[j] = kGoes;
        going = &w;
    }
    for (size_t j = worktree.size(); j-- > 0;) {
        const ScanEntry &w = worktree[j];
        if (fate[j] == kGoes)
            plan.changes.push_back({&plan.removed.emplace_back(w.rel), w.type == 'd' ? "rmdir" : "delete", nullptr, w.type});
    }
    if (is_leaked_marker(dir)) plan.changes.push_back({&plan.removed.emplace_back(".READY"), "delete", nullptr, 'f'});
    // The scan is done with: what it held goes back to the system before files are written and
    // the stat cache is saved (glibc would keep it, and the writing would come on top).
    std::vector<ScanEntry>().swap(worktree);
    release_free_memory();
    return plan;
}

CheckoutStats apply_checkout(const Dir &dir, const Dir &snapshot, const CheckoutPlan &plan, StatCache &cache,
                             OpContext &ctx, CopyMethod method, bool fresh, const char *fault_mid_write) {
    CheckoutStats stats;
    stats.unchanged = plan.unchanged;
    WritableDirs writable(dir, plan);
    std::vector<const Change *> writes, metas;
    // 1. deletions (they also clear the way for type changes), 2. directories, in plan order. Each
    //    is resolved from the root again: an earlier step may have removed a directory.
    for (const auto &c : plan.changes) {
        if (c.action == "delete" || c.action == "rmdir") {
            dir.remove_tree(c.rel());
            stats.deleted++;
        } else if (c.action == "mkdir") {
            create_dir(dir.entry(c.rel()));
            stats.created++;
        } else if (c.action == "metadata") {
            metas.push_back(&c);
        } else {
            writes.push_back(&c);
        }
    }
    // 3. file and symlink contents, in parallel: temp file beside the target, then rename over it
    //    (each file changes atomically for whoever watches). A fresh, unpublished directory has no
    //    watcher: files are created in place there, saving a rename per file. Parents are opened
    //    once each (DirCache), beneath the roots.
    uint64_t total_bytes = 0;
    for (const auto *c : writes) total_bytes += c->target->size;
    ctx.phase("write", writes.size(), total_bytes);
    std::vector<char> outcome(writes.size(), 0);  // 'r' cloned, 'f' clone refused
    std::vector<std::pair<size_t, std::string>> dropped;  // (write, attribute): rare, so no list per write
    std::mutex dropped_mu;
    std::vector<char> holes_lost(writes.size(), 0);
    DirCache wc(dir);
    // Batches of one directory's files: a create or rename takes its directory's lock (see
    // parallel_for_batches).
    const auto starts = batch_starts(
        writes.size(), [&](size_t i) { return parent_dir_of(writes[i]->rel()); },
        [&](size_t i) { return writes[i]->target->size; });
    parallel_for_batches(starts, writes.size(), &ctx, [&](size_t i) -> uint64_t {
        const Change &c = *writes[i];
        const std::string src = stored_rel(c.rel());
        Entry dst = wc.entry(c.rel());
        bool direct = fresh && c.action == "create";
        Entry tmp = direct ? dst : temp_beside(dst, dir, c.rel());
        auto missing = [&] {
            fail("E_SNAPSHOT_INCOMPLETE", "snapshot file missing: " + c.rel(), "run jvs verify on the snapshot",
                 {{"path", c.rel()}});
        };
        uint64_t n = 0;
        std::optional<struct stat> now;
        try {
            if (c.target->type == 'l') {
                auto st = snapshot.lstat(src);
                if (!st) missing();
                create_symlink(snapshot.read_link(src), tmp, *st);
            } else {
                // The snapshot file's own stat gives the metadata (one fstat, no second path walk).
                CopyOutcome out = copy_file(snapshot, src, tmp, nullptr, method);
                n = out.bytes;
                outcome[i] = out.cloned ? 'r' : out.fell_back ? 'f' : 0;
                if (!out.dropped_xattrs.empty()) {
                    std::lock_guard<std::mutex> g(dropped_mu);
                    for (auto &x : out.dropped_xattrs) dropped.emplace_back(i, std::move(x));
                }
                holes_lost[i] = out.holes_filled;
                if (direct) now = out.dst_after;
            }
            if (!direct) entry_rename(tmp, dst);
        } catch (...) {
            try {
                entry_unlink(tmp);
            } catch (const Error &) {
            }
            bool gone = false;
            try {
                gone = !snapshot.lstat(src);
            } catch (const Error &) {
            }
            if (gone) missing();
            throw;
        }
        if (c.target->type == 'f') {
            if (!now) now = entry_lstat(dst);  // a rename may change the ctime: ask again
            if (now) cache.put(c.rel(), *now, c.target->hash);
        }
        if (i == writes.size() / 2) fault_point(fault_mid_write);
        return n;
    });
    std::stable_sort(dropped.begin(), dropped.end(), [](const auto &x, const auto &y) { return x.first < y.first; });
    auto next_dropped = dropped.begin();
    for (size_t i = 0; i < writes.size(); i++) {
        const Change *c = writes[i];
        (c->action == "create" ? stats.created : stats.updated)++;
        if (outcome[i] == 'r') stats.cloned++;
        else stats.bytes_written += c->target->size;
        if (outcome[i] == 'f') stats.refused.push_back(c->rel());
        for (; next_dropped != dropped.end() && next_dropped->first == i; ++next_dropped)
            stats.dropped_xattrs.emplace_back(c->rel(), std::move(next_dropped->second));
        if (holes_lost[i]) stats.holes_filled.push_back(c->rel());
    }
    // 4. metadata-only differences, without rewriting content.
    for (const auto *c : metas) {
        if (c->target->type == 'd') continue;  // directories are finished below
        auto st = snapshot.lstat(stored_rel(c->rel()));
        if (!st) continue;
        apply_metadata(dir, c->rel(), *st);
        if (auto now = dir.lstat(c->rel()); now && c->target->type == 'f') cache.put(c->rel(), *now, c->target->hash);
        stats.metadata++;
    }
    // 5. directory modes and mtimes last, deepest first (children changed their mtimes meanwhile).
    writable.finished(plan.dirs_in_scope);
    for (auto it = plan.dirs_in_scope.rbegin(); it != plan.dirs_in_scope.rend(); ++it) {
        const std::string src = stored_rel((*it)->rel);
        auto st = snapshot.lstat(src);
        if (!st || !S_ISDIR(st->st_mode)) continue;
        Dir from = snapshot.dir(src);
        for (auto &x : finish_dir(dir, (*it)->rel, *st, from.fd()))
            stats.dropped_xattrs.emplace_back((*it)->rel, std::move(x));
    }
    return stats;
}

std::string checkout_engine(const CheckoutStats &s, CopyMethod method) {
    bool reflinked = method == CopyMethod::Reflink && (s.cloned > 0 || s.refused.empty());
    return reflinked ? "reflink-copy" : "copy";
}

nlohmann::ordered_json checkout_degradations(const CheckoutStats &s) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto &[path, name] : s.dropped_xattrs) out.push_back(Degradation{"xattr_dropped", path, name}.to_json());
    for (const auto &path : s.holes_filled) out.push_back(sparse_filled(path));
    if (s.refused.empty()) return out;
    std::string list;
    for (size_t i = 0; i < s.refused.size() && i < 10; i++) list += (i ? ", " : "") + s.refused[i];
    if (s.refused.size() > 10) list += ", ...";
    out.push_back(Degradation{"reflink_fallback", s.refused[0],
                              std::to_string(s.refused.size()) +
                                  " file(s) copied instead of cloned (the filesystem refused FICLONE): " + list}
                      .to_json());
    return out;
}

nlohmann::ordered_json plan_to_json(const CheckoutPlan &plan) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto &c : plan.changes) arr.push_back({{"path", c.rel()}, {"action", c.action}});
    return arr;
}

}  // namespace jvs
