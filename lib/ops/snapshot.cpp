// jvs_snapshot: publish an immutable copy of a worktree (or of some of its paths).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "engine/engine.hpp"
#include "engine/juicefs.hpp"
#include "engine/scan.hpp"
#include "engine/select.hpp"
#include "format/descriptor.hpp"
#include "format/worktree_config.hpp"
#include "format/ids.hpp"
#include "ops/ops.hpp"
#include "repo/config.hpp"
#include "repo/manifest.hpp"
#include "repo/snapshots.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/memory.hpp"
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
// worktree's, or one outside the repository altogether. (realpath only classifies the error: it
// follows the link to say whether it leads outside, reading no file.)
void check_path_inside(const Dir &wt, const std::string &rel) {
    for (size_t pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1)) {
        std::string anc = rel.substr(0, pos);
        auto st = wt.lstat(anc);
        if (!st)
            fail("E_PATH_NOT_FOUND", "path '" + rel + "' does not exist in the worktree",
                 "paths are relative to the worktree root", {{"path", rel}});
        if (S_ISLNK(st->st_mode)) {
            std::string root_real = real_path(wt.display());
            std::string target;
            try {
                target = real_path(wt.display(anc));
            } catch (const Error &) {
            }
            bool inside = !target.empty() && (target == root_real || target.rfind(root_real + "/", 0) == 0);
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
    nlohmann::ordered_json warnings = nlohmann::ordered_json::array();  // the call still succeeds
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

// A file that changed while jvs read it, every time it tried: stored as last read, never silently.
nlohmann::ordered_json changed_while_read(const std::string &rel, int reads, const char *how) {
    return Degradation{"changed_while_read", rel,
                       "file changed as we read it (" + std::to_string(reads) + " " + how +
                           "); stored as last read"}
        .to_json();
}

// Path order (a renamed first component may sort elsewhere among its siblings).
void path_order(Manifest &m) {
    auto less = [](const ManifestEntry &a, const ManifestEntry &b) { return path_less(a.rel, b.rel); };
    if (!std::is_sorted(m.begin(), m.end(), less)) std::stable_sort(m.begin(), m.end(), less);
}

// Puts a manifest built in worktree names into stored names (stored_rel) and path order.
void to_stored_names(Manifest &m) {
    for (auto &e : m)
        if (renamed_in_snapshots(e.rel)) e.rel = stored_rel(e.rel);
    path_order(m);
}

// A path under its stored name (stored_rel), copied only for the rare names it changes.
const std::string &stored_name(const std::string &rel, std::string &buf) {
    if (!renamed_in_snapshots(rel)) return rel;
    return buf = stored_rel(rel);
}

constexpr uint32_t kNoParent = UINT32_MAX;

// Where the parent's manifest lists `stored` (kNoParent: nowhere), for paths asked in path order:
// a cursor that moves forward with them (both sides are in path order), so no index of the whole
// manifest is built. A renamed top-level name (stored_rel) may sort elsewhere: binary search.
class ParentCursor {
   public:
    explicit ParentCursor(const Manifest *parent) : m_(parent) {}
    uint32_t find(const std::string &stored, bool renamed) {
        if (!m_) return kNoParent;
        auto less = [](const ManifestEntry &e, const std::string &p) { return path_less(e.rel, p); };
        size_t at = pos_;
        if (renamed) {
            at = static_cast<size_t>(std::lower_bound(m_->begin(), m_->end(), stored, less) - m_->begin());
        } else {
            while (at < m_->size() && path_less((*m_)[at].rel, stored)) at++;
            pos_ = at;
        }
        return at < m_->size() && (*m_)[at].rel == stored ? static_cast<uint32_t>(at) : kNoParent;
    }

   private:
    const Manifest *m_;
    size_t pos_ = 0;
};

// The stat cache is saved once the files it describes are read, before the snapshot is published:
// it vouches for worktree files, whatever becomes of the snapshot. Not saving it costs only speed.
void save_cache(const StatCache &cache, const std::string &path, Built &b) {
    try {
        fault_point("snapshot.before_cache");
        cache.save(path);
    } catch (const Error &e) {
        b.warnings.push_back({{"code", e.code}, {"message", "stat cache not saved: " + e.message}});
    }
}

// How the copy stage handled one file (see materialise).
struct FileOutcome {
    char how = 0;              // 'l' linked, 'c' copied, 'r' cloned, 'f' clone refused
    bool parent_same = false;  // the parent lists it with the scanned size, mode and mtime (hash: its)
    bool read_for_hash = false;
    bool holes_lost = false;
    uint8_t changed_reads = 0;  // > 0: changed while read, this many reads
};

// Marks the files the parent's manifest lists with the scanned size, mode and mtime, and takes
// their hash from it (what a link to the parent's copy would hold, if the stat cache agrees).
// One pass in path order (ParentCursor): no index of the parent's manifest.
void match_parent(const std::vector<ScanEntry> &entries, const std::vector<uint32_t> &files, const Manifest &parent,
                  std::vector<Digest> &hashes, std::vector<FileOutcome> &outcome) {
    ParentCursor cursor(&parent);
    std::string buf;
    for (size_t k = 0; k < files.size(); k++) {
        const ScanEntry &e = entries[files[k]];
        uint32_t at = cursor.find(stored_name(e.rel, buf), renamed_in_snapshots(e.rel));
        if (at == kNoParent) continue;
        const ManifestEntry &pm = parent[at];
        const Digest *h = pm.hash.digest();
        if (pm.type == 'f' && h && pm.perm == (e.st.st_mode & 07777) &&
            pm.size == static_cast<uint64_t>(e.st.st_size) && pm.mtime_ns == e.st.mtime_ns) {
            hashes[k] = *h;
            outcome[k].parent_same = true;
        }
    }
}

// The manifest of the materialised tree, in worktree names: each entry's path moves out of the
// scan, which is released (with the files' hashes) once the manifest holds everything.
Manifest manifest_of(std::vector<ScanEntry> &entries, std::vector<Digest> &hashes) {
    Manifest m;
    m.reserve(entries.size());
    std::string buf;
    size_t k = 0;
    for (auto &e : entries) {
        ManifestEntry me;
        me.type = e.type;
        me.perm = static_cast<uint32_t>(e.st.st_mode & 07777);
        me.mtime_ns = e.st.mtime_ns;
        if (e.type == 'd') me.hash = sha256_hex(base_name(stored_name(e.rel, buf)));
        if (e.type == 'l') me.hash = sha256_hex(e.link_target.str());
        if (e.type == 'f') me.size = static_cast<uint64_t>(e.st.st_size), me.hash = HexDigest(hashes[k++]);
        me.rel = std::move(e.rel);
        m.push_back(std::move(me));
    }
    std::vector<ScanEntry>().swap(entries);
    std::vector<Digest>().swap(hashes);
    return m;
}

// Materialises the scanned entries (worktree names) into the staging tree `tmp` (stored names),
// linking files unchanged since the parent snapshot. Every file is read beneath `wt` and written
// beneath `tmp`; a file that changes while it is read is read again (kReadAttempts).
//
// Memory is what bounds a million-file snapshot, so the large tables never all live at once: the
// parent's manifest is consulted in one pass and released before the stat cache is loaded; the
// cache is saved and released before the manifest is built from the scan (the scan entry of each
// file takes the stat of what was stored).
Built materialise(std::vector<ScanEntry> &entries, const Dir &wt, const Dir &tmp, const Dir *parent_dir,
                  std::optional<Manifest> &parent, const std::string &cache_path, CopyMethod method,
                  OpContext &ctx) {
    Built b;
    DirCache tc(tmp);
    std::vector<uint32_t> files;
    std::map<std::pair<uint64_t, uint64_t>, std::vector<std::string>> hardlinks;
    uint64_t dirs = 0, links = 0, total_bytes = 0;
    std::string buf;
    for (size_t i = 0; i < entries.size(); i++) {
        const ScanEntry &e = entries[i];
        if (e.type == 'd') {
            create_dir(tc.entry(stored_name(e.rel, buf)));
            dirs++;
        } else if (e.type == 'l') {
            create_symlink(e.link_target, tc.entry(stored_name(e.rel, buf)), e.st);
            links++;
        } else {
            files.push_back(static_cast<uint32_t>(i));
            total_bytes += static_cast<uint64_t>(e.st.st_size);
            if (e.st.st_nlink > 1) hardlinks[{e.st.st_dev, e.st.st_ino}].push_back(e.rel);
        }
    }
    std::vector<Digest> hashes(files.size());
    std::vector<FileOutcome> outcome(files.size());
    std::optional<DirCache> pc;
    if (parent && parent_dir) {
        match_parent(entries, files, *parent, hashes, outcome);
        pc.emplace(*parent_dir);
    }
    parent.reset();
    StatCache cache = StatCache::load(cache_path);
    std::mutex dropped_mu;
    std::vector<std::pair<size_t, std::string>> dropped_xattrs;  // (file, attribute): rare
    ctx.phase("copy", files.size(), total_bytes);
    // A worker takes a batch of one directory's files (parallel_for_batches): every link or
    // create in a directory takes that directory's lock, and workers sharing one spent a fifth of a
    // million-file re-snapshot's CPU waiting on it. Files the parent holds are expected to be linked
    // (nothing to read); the others' sizes cut batches, so large files still spread out.
    const auto starts = batch_starts(
        files.size(), [&](size_t k) { return parent_dir_of(entries[files[k]].rel); },
        [&](size_t k) { return outcome[k].parent_same ? 0 : static_cast<uint64_t>(entries[files[k]].st.st_size); });
    parallel_for_batches(starts, files.size(), &ctx, [&](size_t k) -> uint64_t {
        if (k == files.size() / 2) fault_point("snapshot.mid_copy");
        ScanEntry &e = entries[files[k]];
        FileOutcome &o = outcome[k];
        std::string name_buf;
        const std::string &to = stored_name(e.rel, name_buf);
        Entry dst = tc.entry(to);
        Digest cached{};
        auto cached_hex = cache.lookup(e.rel, e.st);
        const bool known = cached_hex && digest_from_hex(*cached_hex, cached);
        if (known && o.parent_same && cached == hashes[k] && try_hardlink(pc->entry(to), dst)) {
            o.how = 'l';
            return static_cast<uint64_t>(e.st.st_size);  // linked: its bytes are done (the phase's bytes_total counts them)
        }
        // A hash the stat cache vouches for is not computed again: the file is cloned (or copied)
        // without reading it, and the hash is kept only if the source kept its scanned stat while
        // its data was taken; otherwise what dst holds is hashed.
        std::string hash;
        CopyOutcome out = copy_file(wt, e.rel, dst, known ? nullptr : &hash, method, kReadAttempts);
        const bool unchanged = !out.changed && StatKey::of(out.stored) == StatKey::of(e.st) &&
                               out.bytes == static_cast<uint64_t>(e.st.st_size);
        if (known && !unchanged) {
            UniqueFd fd = tmp.open_regular(to);
            hash = sha256_fd(fd.get(), tmp.display(to));
        }
        if (known && unchanged) hashes[k] = cached;
        else digest_from_hex(hash, hashes[k]);
        // Cached only if it provably did not change while read. A write after the read moves the
        // ctime even within the same clock tick on kernels with multigrain timestamps (6.13+: a
        // change after a stat gets a fine-grained stamp); older kernels rely on the racy-clean rule.
        if (unchanged && !known) cache.put(e.rel, e.st, hash);
        // From here the entry describes what was stored (the manifest is built from it).
        e.st.st_size = static_cast<int64_t>(out.bytes);
        e.st.st_mode = static_cast<uint32_t>(out.stored.st_mode);
        e.st.mtime_ns = mtime_ns(out.stored);
        o.read_for_hash = !known || !unchanged;
        if (out.changed) o.changed_reads = static_cast<uint8_t>(out.reads);
        o.how = out.cloned ? 'r' : out.fell_back ? 'f' : 'c';
        o.holes_lost = out.holes_filled;
        if (!out.dropped_xattrs.empty()) {
            std::lock_guard<std::mutex> g(dropped_mu);
            for (auto &x : out.dropped_xattrs) dropped_xattrs.emplace_back(k, std::move(x));
        }
        return out.bytes;
    });
    save_cache(cache, cache_path, b);
    cache = StatCache();
    // Directory modes and mtimes last, deepest first; extended attributes from the worktree's
    // directory, opened beneath its root.
    for (size_t i = entries.size(); i-- > 0;) {
        const ScanEntry &e = entries[i];
        if (e.type != 'd') continue;
        Dir from = wt.dir(e.rel);
        for (const auto &x : finish_dir(tmp, stored_name(e.rel, buf), e.st, from.fd()))
            b.degradations.push_back(Degradation{"xattr_dropped", e.rel, x}.to_json());
    }
    std::sort(dropped_xattrs.begin(), dropped_xattrs.end());
    auto dropped = dropped_xattrs.begin();
    uint64_t linked = 0, copied = 0, cloned = 0, bytes_copied = 0, hashed = 0, bytes_hashed = 0;
    std::vector<std::string> refused;
    for (size_t k = 0; k < files.size(); k++) {
        const ScanEntry &e = entries[files[k]];
        const FileOutcome &o = outcome[k];
        const auto size = static_cast<uint64_t>(e.st.st_size);
        if (o.how == 'l') linked++;
        if (o.how == 'r') cloned++;
        if (o.how == 'c' || o.how == 'f') copied++, bytes_copied += size;
        if (o.how == 'f') refused.push_back(e.rel);
        if (o.read_for_hash) hashed++, bytes_hashed += size;
        if (o.changed_reads) b.degradations.push_back(changed_while_read(e.rel, o.changed_reads, "reads"));
        for (; dropped != dropped_xattrs.end() && dropped->first == k; ++dropped)
            b.degradations.push_back(Degradation{"xattr_dropped", e.rel, dropped->second}.to_json());
        if (o.holes_lost) b.degradations.push_back(sparse_filled(e.rel));
    }
    std::vector<FileOutcome>().swap(outcome);
    std::vector<uint32_t>().swap(files);
    b.manifest = manifest_of(entries, hashes);
    to_stored_names(b.manifest);
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
    b.stats = {{"files", linked + copied + cloned}, {"dirs", dirs},                 {"symlinks", links},
               {"files_hashed", hashed},            {"files_linked", linked},       {"files_copied", copied},
               {"files_cloned", cloned},            {"bytes_copied", bytes_copied}, {"bytes_hashed", bytes_hashed}};
    return b;
}

// The entry `name` of `parent` must still be the directory `expected` (dev, inode): juicefs was
// given that name, and an agent swapping it meanwhile would have had another tree cloned.
void check_clone_source(const Dir &parent, const std::string &name, const struct stat &expected) {
    struct stat st {};
    if (::fstatat(parent.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != expected.st_dev ||
        st.st_ino != expected.st_ino || (st.st_mode & S_IFMT) != (expected.st_mode & S_IFMT))
        fail("E_PATH_ESCAPE", "'" + parent.display(name) + "' was replaced while it was cloned",
             "retry once nothing moves the worktree's directories", {{"path", parent.display(name)}});
}

// One `juicefs clone` of `rel` ("" = the whole worktree) to `dst` (a path that does not exist yet):
// the source is named by one component in a directory jvs holds open, and must be the same inode
// before and after the clone.
bool clone_beneath(const Dir &wt, const std::string &rel, const std::string &dst, std::string *why) {
    if (rel.empty()) {
        Dir parent = Dir::open_root(parent_path(wt.display()));
        std::string name = base_name(wt.display());
        struct stat self = wt.stat_self();
        check_clone_source(parent, name, self);
        bool ok = juicefs_clone(parent, name, dst, why);
        check_clone_source(parent, name, self);
        return ok;
    }
    auto [dir_rel, leaf] = split_parent(rel);
    Dir parent = dir_rel.empty() ? wt.dir("") : wt.dir(dir_rel);
    std::string name(leaf);
    auto st = parent.lstat(name);
    if (!st) fail("E_PATH_NOT_FOUND", "path '" + rel + "' does not exist in the worktree", "", {{"path", rel}});
    check_clone_source(parent, name, *st);
    bool ok = juicefs_clone(parent, name, dst, why);
    check_clone_source(parent, name, *st);
    return ok;
}

// JuiceFS: one metadata-only `juicefs clone` of the worktree (or of each partial path) into the
// staging directory, then hashes only what the stat cache cannot vouch for. Returns false (leaving
// `tmp` as an empty directory) when the clone fails, so the caller copies instead and says why.
//
// No scan precedes the clone. One scan of the worktree follows it: an entry whose ctime (and mtime)
// predates the clone's start has not changed since (any write, rename, chmod or entry added to or
// removed from a directory moves the ctime of what it touches to at least the clock at that
// moment), so when the whole tree (its root included) is settled and the clone's top level names
// what the worktree's does, that scan describes the clone exactly and the clone needs no scan of
// its own. Otherwise the clone is scanned too (beneath its root) and only the settled files that
// agree with their clone are trusted. A file whose ctime falls within the clone may have changed
// while it was cloned: it is stored as the clone holds it and reported (changed_while_read).
bool materialise_juicefs(const std::vector<std::string> &paths, const Dir &wt, const Dir &snaps,
                         const std::string &tmp_name, std::optional<Dir> &tmp, const std::string &cache_path,
                         OpContext &ctx, Built &b, std::string *why) {
    ctx.phase("clone", 0);
    const int64_t clone_started_ns = stamp_clock_ns();
    const std::string tmp_path = snaps.display(tmp_name);
    bool ok = true;
    if (paths.empty()) {
        tmp.reset();
        if (::unlinkat(snaps.fd(), tmp_name.c_str(), AT_REMOVEDIR) != 0)  // juicefs clone creates it itself
            fail_errno(errno, "rmdir", tmp_path);
        ok = clone_beneath(wt, "", tmp_path, why);
        if (!ok) snaps.mkdir(tmp_name, 0755);
        tmp = snaps.dir(tmp_name);  // a clone that landed anywhere else is not found here
    } else {
        for (const auto &p : paths) {
            for (size_t pos = p.find('/'); pos != std::string::npos; pos = p.find('/', pos + 1)) {
                const std::string anc = p.substr(0, pos), stored_anc = stored_rel(anc);
                auto st = wt.lstat(anc);
                if (st && !tmp->lstat(stored_anc)) {
                    create_dir(tmp->entry(stored_anc));
                    finish_dir(*tmp, stored_anc, *st, -1);
                }
            }
            if (!(ok = clone_beneath(wt, p, path_join(tmp_path, stored_rel(p)), why))) break;
        }
        if (!ok) {
            tmp.reset();
            snaps.remove_tree(tmp_name);
            snaps.mkdir(tmp_name, 0755);
            tmp = snaps.dir(tmp_name);
        }
    }
    if (!ok) return false;
    const int64_t clone_done_ns = stamp_clock_ns();
    if (paths.empty()) rename_ready_for_snapshot(*tmp);  // partial paths were cloned to their stored names
    auto settled = [&](const struct stat &st) { return ctime_ns(st) < clone_started_ns && mtime_ns(st) < clone_started_ns; };
    std::vector<ScanEntry> worktree = scan_tree(wt, paths, &ctx, TopReady::UserData);  // E_SPECIAL_FILE: tmp is removed
    StatCache cache = StatCache::load(cache_path);
    // Partial snapshots: ancestors were made here, after the clone started; only the paths count.
    bool all_settled = paths.empty() && settled(wt.stat_self()) &&
                       std::all_of(worktree.begin(), worktree.end(), [&](const ScanEntry &e) { return settled(e.st); });
    if (all_settled) {  // the clone's top level must name what the worktree's does
        std::vector<std::string> top;
        for (const auto &e : worktree)
            if (e.rel.find('/') == std::string::npos) top.push_back(stored_rel(e.rel));
        std::sort(top.begin(), top.end());
        all_settled = top == tmp->list();
    }
    std::vector<ScanEntry> clone_scan;
    if (!all_settled) clone_scan = scan_tree(*tmp, {}, &ctx);
    std::unordered_map<std::string, const ScanStat *> wt_stat;  // by stored name
    for (const auto &e : worktree) wt_stat.emplace(stored_rel(e.rel), &e.st);
    std::vector<ScanEntry> stored_worktree;
    if (all_settled) {
        stored_worktree = worktree;
        for (auto &e : stored_worktree) e.rel = stored_rel(e.rel);
    }
    const std::vector<ScanEntry> &entries = all_settled ? stored_worktree : clone_scan;
    std::vector<std::string> hashes(entries.size());
    std::vector<size_t> files;
    uint64_t dirs = 0, links = 0, total = 0;
    for (size_t i = 0; i < entries.size(); i++) {
        if (entries[i].type == 'f') files.push_back(i), total += static_cast<uint64_t>(entries[i].st.st_size);
        dirs += entries[i].type == 'd';
        links += entries[i].type == 'l';
    }
    std::atomic<uint64_t> hashed{0}, bytes_hashed{0};
    std::vector<char> during(entries.size(), 0);
    ctx.phase("hash", files.size(), total);
    parallel_for(files.size(), &ctx, [&](size_t k) -> uint64_t {
        const ScanEntry &c = entries[files[k]];
        auto it = wt_stat.find(c.rel);
        const ScanStat *w = it == wt_stat.end() ? nullptr : it->second;
        const std::string wrel = worktree_rel(c.rel).value_or(c.rel);
        // Changed at some moment between the clone's start and its end: what the clone holds may
        // be any version of it.
        during[files[k]] = w && w->ctime_ns >= clone_started_ns && w->ctime_ns <= clone_done_ns;
        // Settled and agreeing with its clone: the clone holds the content of this worktree stat.
        bool steady = w && settled(*w) && w->st_size == c.st.st_size && w->mtime_ns == c.st.mtime_ns &&
                      (w->st_mode & 07777) == (c.st.st_mode & 07777);
        if (auto cached = steady ? cache.lookup(wrel, *w) : std::nullopt) {
            hashes[files[k]] = *cached;
            return static_cast<uint64_t>(c.st.st_size);  // vouched for by the cache: done without reading
        }
        // The clone is read, never the worktree: it is what the snapshot holds, and on a volume other
        // hosts write this host's JuiceFS client keeps serving a file's cached bytes while its mtime
        // is unchanged (a rewrite with the mtime put back reads stale here). The clone's inodes are
        // new to this client.
        UniqueFd fd = tmp->open_regular(c.rel);
        hashes[files[k]] = sha256_fd(fd.get(), tmp->display(c.rel));
        if (steady) cache.put(wrel, *w, hashes[files[k]]);
        hashed++;
        bytes_hashed += static_cast<uint64_t>(c.st.st_size);
        return static_cast<uint64_t>(c.st.st_size);
    });
    save_cache(cache, cache_path, b);
    for (size_t i = 0; i < entries.size(); i++) {
        const auto &e = entries[i];
        ManifestEntry m{e.type, e.rel, static_cast<uint32_t>(e.st.st_mode & 07777), 0, e.st.mtime_ns, {}};
        if (e.type == 'f') m.size = static_cast<uint64_t>(e.st.st_size), m.hash = hashes[i];
        else m.hash = sha256_hex(e.type == 'l' ? e.link_target.str() : base_name(e.rel));
        if (during[i]) b.degradations.push_back(changed_while_read(worktree_rel(e.rel).value_or(e.rel), 1, "clone"));
        b.manifest.push_back(std::move(m));
    }
    path_order(b.manifest);  // the worktree scan's order may differ from stored names'
    b.engine = engine_name(EngineKind::Juicefs);
    b.stats = {{"files", files.size()},   {"dirs", dirs},          {"symlinks", links},
               {"files_hashed", hashed.load()}, {"files_linked", 0}, {"files_copied", 0},
               {"files_cloned", files.size()},  {"bytes_copied", 0}, {"bytes_hashed", bytes_hashed.load()}};
    return true;
}

// Takes back a snapshot whose descriptor was committed but whose worktree config could not be:
// descriptor first (as gc unpublishes), then its files and its intent. Under the repository lock, so
// no lease can be taken meanwhile; a snapshot someone already leased (a restore or fork found it in
// the instant it was visible) stays published. Returns whether it is gone.
bool unpublish_failed_snapshot(const Repo &repo, const std::string &id, int64_t lock_timeout_ms) {
    try {
        FileLock lock = lock_repo(repo, lock_timeout_ms, "snapshot");
        for (const auto &l : list_leases(repo))
            if (l.live && l.snapshot_id == id) return false;
        if (::unlink(repo.descriptor_path(id).c_str()) != 0 && errno != ENOENT) return false;
        try {
            fsync_path(repo.descriptors_dir());
        } catch (const Error &) {
            // Gone from the namespace already; a crash before the directory is flushed may bring the
            // descriptor back, with its intent still there for doctor to roll the worktree forward.
        }
    } catch (const Error &) {
        return false;
    }
    remove_tree(repo.snapshot_dir(id));
    ::unlink(repo.manifest_path(id).c_str());
    ::unlink(repo.intent_path(id).c_str());
    return true;
}

// What a manifest may hold is what every reader accepts (util/names): a path longer than PATH_MAX is
// refused here rather than stored in a snapshot nothing could restore.
void check_storable(const Manifest &m) {
    for (const auto &e : m)
        if (auto why = unsafe_path_reason(e.rel))
            fail("E_PATH_INVALID", "the worktree holds a path jvs cannot store: '" + e.rel.substr(0, 120) + "...' " + *why,
                 "shorten or move it (the Go tool and most programs cannot open it either)",
                 {{"path", e.rel.substr(0, 4096)}});
}

// The publish point's second half: the worktree's head and latest name the new snapshot.
void commit_config(const Repo &repo, StagedWrite &config, const std::string &id, int64_t lock_timeout_ms, Doc &doc) {
    try {
        fault_point("snapshot.after_descriptor");
        config.commit();
    } catch (const Error &e) {
        if (config.committed()) {  // in place; only flushing its directory failed
            doc["warnings"].push_back({{"code", e.code}, {"message", "worktree config not flushed: " + e.message}});
        } else if (unpublish_failed_snapshot(repo, id, lock_timeout_ms)) {
            // Published, but the worktree does not know it: taken back, so an error means nothing
            // is visible and a retry makes exactly one snapshot.
            throw;
        } else {
            // Cannot be taken back (a reader leased it, or the descriptor cannot be removed): the
            // call succeeds, and its intent stays for `doctor --repair` to complete the worktree.
            doc["warnings"].push_back({{"code", e.code},
                                       {"message", "snapshot published, but the worktree config was not updated (" +
                                                       e.message + "): run `jvs doctor --repair`"}});
        }
    }
}

// After the publish point only cleanup remains, and its failures are warnings of a snapshot that
// succeeded: the stat cache, the audit record, the intent (kept when the config was not updated).
void finish_published(const Repo &repo, const Descriptor &d, bool config_updated, Doc &doc) {
    // Besides the Go tool's fields, the record keeps what a descriptor needs and no other file
    // holds (created_at, parent, tags), so doctor can rebuild a lost descriptor exactly.
    nlohmann::json details = {{"checksum", d.descriptor_checksum}, {"engine", d.engine}, {"note", d.note},
                              {"created_at", format_rfc3339nano(d.created_at)}};
    if (!d.parent_id.empty()) details["parent_id"] = d.parent_id;
    if (!d.tags.empty()) details["tags"] = d.tags;
    if (!d.partial_paths.empty()) details["partial_paths"] = d.partial_paths;
    audit(repo, doc, "snapshot_create", d.snapshot_id, d.worktree_name, details, "snapshot.after_config");
    if (!config_updated) return;
    try {
        fault_point("snapshot.after_audit");
        if (::unlink(repo.intent_path(d.snapshot_id).c_str()) != 0 && errno != ENOENT)
            fail_errno(errno, "unlink", repo.intent_path(d.snapshot_id));
    } catch (const Error &e) {
        doc["warnings"].push_back({{"code", e.code}, {"message", "intent not removed (doctor removes it): " + e.message}});
    }
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
    // The worktree's root, opened once: everything below is reached beneath it.
    std::optional<Dir> wt_root = Dir::open_root_if_exists(payload);
    if (!wt_root)
        fail("E_WORKTREE_NOT_FOUND", "payload directory of worktree '" + cfg.name + "' is missing: " + payload,
             "run jvs doctor", {{"path", payload}});
    const Dir &wt = *wt_root;
    for (const auto &p : in.paths) check_path_inside(wt, p);

    EngineChoice engine = choose_engine(repo, true);
    // A whole-tree JuiceFS snapshot scans once, after its clone (see materialise_juicefs); every
    // other snapshot scans first, so a special file fails it before anything is written.
    // An adopted repository's worktree holds .jvs itself: never cloned whole (see Repo::adopted).
    const bool whole_clone = engine.kind == EngineKind::Juicefs && in.paths.empty() && !repo.adopted();
    const bool scan_after_clone = whole_clone;
    ctx.phase("scan", 0);
    const std::string cache_path = repo.stat_cache_path(cfg.name);
    std::string parent_id = !cfg.head_snapshot_id.empty() ? cfg.head_snapshot_id : cfg.base_snapshot_id;
    std::optional<Manifest> parent;
    std::optional<Dir> parent_dir;  // unchanged files are hard-linked from here
    // Unchanged files are hard-linked to the parent's copies only through a manifest that describes
    // the parent's tree; an unsafe or untrusted one just means every file is copied. It is read and
    // checked against its descriptor on a thread of its own while the worktree is scanned (on a
    // large tree both take a while: the one mostly hashing, the other mostly system calls).
    std::future<std::optional<Manifest>> parent_load;
    if (!parent_id.empty() && is_published(repo, parent_id))
        parent_load = std::async(std::launch::async, [&repo, parent_id]() -> std::optional<Manifest> {
            try {
                return read_trusted_manifest(repo, parent_id);
            } catch (const Error &) {
                return std::nullopt;
            }
        });
    std::vector<ScanEntry> entries;
    if (!scan_after_clone) entries = scan_tree(wt, in.paths, &ctx, TopReady::UserData, repo.adopted());
    if (parent_load.valid()) {
        parent = parent_load.get();
        if (parent) parent_dir = Dir::open_root_if_exists(repo.snapshot_dir(parent_id));
        if (!parent_dir) parent.reset();
        release_free_memory();  // what reading and checking it took
    }
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
    const std::string tmp_name = d.snapshot_id + ".tmp";
    Dir snaps = Dir::open_root(repo.snapshots_dir());
    atomic_write(repo.intent_path(d.snapshot_id),
                 intent_bytes(d.snapshot_id, cfg.name, now_utc(), engine_name(engine.kind)), 0644);
    Built built;
    WorktreeConfig cfg_next = cfg;
    std::optional<StagedWrite> staged_descriptor, staged_config;
    try {
        fault_point("snapshot.after_intent");
        snaps.mkdir(tmp_name, 0755);
        std::optional<Dir> tmpd = snaps.dir(tmp_name);  // the staging tree, written beneath this fd
        std::string why = engine.kind == EngineKind::Juicefs && !whole_clone && in.paths.empty()
                              ? "the worktree holds the repository's .jvs (adopted): files are copied one by one"
                              : "";
        bool cloned = engine.kind == EngineKind::Juicefs && (whole_clone || !in.paths.empty()) &&
                      materialise_juicefs(in.paths, wt, snaps, tmp_name, tmpd, cache_path, ctx, built, &why);
        if (!cloned) {
            if (scan_after_clone) entries = scan_tree(wt, in.paths, &ctx, TopReady::UserData, repo.adopted());
            built = materialise(entries, wt, *tmpd, parent_dir ? &*parent_dir : nullptr, parent,
                                cache_path, copy_method(engine), ctx);
            if (engine.kind == EngineKind::Juicefs)
                built.degradations.push_back(Degradation{"clone_fallback", ".", why}.to_json());
            if (!engine.shortfall.empty())
                built.degradations.push_back(Degradation{"clone_fallback", ".", engine.shortfall}.to_json());
        }
        // The scan and the parent's manifest are not needed to publish: freed before the manifest
        // and the payload hash are encoded (the peak memory of a million-file snapshot).
        std::vector<ScanEntry>().swap(entries);
        parent.reset();
        parent_dir.reset();
        d.engine = built.engine;
        check_storable(built.manifest);
        fault_point("snapshot.after_copy");
        d.payload_root_hash = manifest_root_hash(built.manifest);
        d.created_at = now_utc();
        d.descriptor_checksum = descriptor_checksum(d);
        write_manifest(repo.manifest_path(d.snapshot_id), built.manifest);
        fault_point("snapshot.after_manifest");
        atomic_write_at(tmpd->fd(), ".READY", ready_marker(d, now_utc()), 0644, tmpd->display(".READY"));
        fault_point("snapshot.after_ready");
        ctx.phase("sync", 0);
        // One filesystem-wide flush instead of an fsync per file: everything written above is
        // durable before the rename below makes the directory reachable under its final name.
        if (::syncfs(tmpd->fd()) != 0) fail_errno(errno, "syncfs", tmp);
        tmpd.reset();
        fault_point("snapshot.after_sync");
        // Everything that can fail for want of space or permission happens before the publish
        // point: the descriptor and the worktree's next config are written and flushed as temp
        // files now, so publishing is two renames: the descriptor, then the config.
        cfg_next.head_snapshot_id = cfg_next.latest_snapshot_id = d.snapshot_id;
        staged_descriptor.emplace(repo.descriptor_path(d.snapshot_id), serialize_descriptor(d), 0644);
        staged_config.emplace(repo.worktree_config_path(cfg.name), serialize_worktree_config(cfg_next), 0644);
        fault_point("snapshot.after_stage");
        ctx.check_cancelled();  // the last point at which cancelling leaves no trace
        snaps.rename(tmp_name, d.snapshot_id);
        if (::fsync(snaps.fd()) != 0) fail_errno(errno, "fsync", repo.snapshots_dir());
        fault_point("snapshot.after_rename");
        staged_descriptor->commit();  // publish
    } catch (...) {
        remove_tree(tmp);
        if (!staged_descriptor || !staged_descriptor->committed()) {
            remove_tree(final_dir);
            ::unlink(repo.manifest_path(d.snapshot_id).c_str());
        }
        ::unlink(repo.intent_path(d.snapshot_id).c_str());
        throw;
    }
    Doc doc = make_doc("snapshot");
    commit_config(repo, *staged_config, d.snapshot_id, o.lock_timeout_ms, doc);
    doc["snapshot"] = descriptor_to_json(d);
    doc["engine"] = built.engine;
    doc["stats"] = built.stats;
    doc["degradations"] = built.degradations;
    for (auto &w : built.warnings) doc["warnings"].push_back(std::move(w));
    finish_published(repo, d, staged_config->committed(), doc);
    return doc;
}

}  // namespace jvs
