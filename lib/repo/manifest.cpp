#include "repo/manifest.hpp"

#include <unistd.h>

#include <algorithm>
#include <unordered_set>

#include "engine/scan.hpp"
#include "repo/repo.hpp"
#include "repo/snapshots.hpp"
#include "repo/stat_cache.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"
#include "util/records.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {
constexpr const char *kHeader = "jvs-manifest 1";
}

PayloadEntry ManifestEntry::payload() const { return {type, rel, perm & 0777, size, hash.str()}; }

void write_manifest(const std::string &path, const Manifest &m) {
    // Streamed to the file through one buffer (a million entries would be ~130 MB in one string).
    write_record_file(path, kHeader, 0644, [&](RecordWriter &w) {
        for (const auto &e : m) {
            w.field(std::string_view(&e.type, 1)).number(e.perm).number(e.size).number(e.mtime_ns);
            w.field(e.hash.str()).field(e.rel);
            w.end_record();
        }
    });
}

namespace {

// A manifest tells restore, fork and diff what to create where: every entry must be a safe relative
// path lying in a directory the manifest itself lists (a symlink or file is never a parent), once.
// Unsafe paths throw E_PATH_UNSAFE; any other malformation makes the manifest unusable (nullopt).
bool check_entries(const Manifest &m) {
    // jvs writes manifests in strict path order (path_less): there no path repeats, and an entry's
    // parent, listed before it, is still on the stack of directories enclosing the entry before it,
    // so no set of a million paths is needed. Any other order is checked with sets.
    bool sorted = std::adjacent_find(m.begin(), m.end(), [](const ManifestEntry &a, const ManifestEntry &b) {
                      return !path_less(a.rel, b.rel);
                  }) == m.end();
    std::vector<std::string_view> open;  // sorted: the directories enclosing the last entry
    std::unordered_set<std::string_view> dirs, seen;
    if (!sorted) dirs.reserve(m.size() / 4 + 1), seen.reserve(m.size());
    for (const auto &e : m) {
        check_stored_path(e.rel, "manifest entry");
        if ((e.type != 'd' && e.type != 'f' && e.type != 'l') || !e.hash.valid() || e.perm > 07777) return false;
        auto slash = e.rel.rfind('/');
        if (slash != std::string::npos) {
            std::string_view parent = std::string_view(e.rel).substr(0, slash);
            while (sorted && !open.empty() && !path_within(parent, open.back())) open.pop_back();
            if (sorted ? open.empty() || open.back() != parent : !dirs.count(parent))
                fail_unsafe(e.rel, "manifest entry", "lies under a path the manifest does not list as a directory");
        } else {
            open.clear();
        }
        if (!sorted && !seen.insert(e.rel).second) return false;
        if (e.type == 'd' && sorted) open.push_back(e.rel);
        if (e.type == 'd' && !sorted) dirs.insert(e.rel);
    }
    return true;
}
}  // namespace

std::optional<Manifest> read_manifest(const std::string &path) {
    // Streamed twice, never held whole: checked and counted, then decoded into a table of exactly
    // that size (a vector growing by doubling would hold up to three times the entries at once).
    size_t n = 0;
    auto counted = for_each_record_in_file(path, kHeader, false, [&](const std::vector<std::string_view> &) {
        n++;
        return true;
    });
    if (!counted || !*counted) return std::nullopt;
    Manifest m;
    m.reserve(n);
    bool ok = for_each_record_in_file(path, kHeader, false, [&](const std::vector<std::string_view> &r) {
        ManifestEntry e;
        if (r.size() != 6 || r[0].size() != 1 || !parse_number(r[1], e.perm) || !parse_number(r[2], e.size) ||
            !parse_number(r[3], e.mtime_ns))
            return false;
        e.type = r[0][0];
        e.hash = r[4];
        e.rel = r[5];
        m.push_back(std::move(e));
        return true;
    }).value_or(false);
    if (!ok || !check_entries(m)) return std::nullopt;
    return m;
}

Manifest build_manifest_from_dir(const std::string &root, OpContext *ctx) {
    return build_manifest_from_dir(Dir::open_root(root), ctx);
}

Manifest build_manifest_from_dir(const Dir &root, OpContext *ctx) {
    if (ctx) ctx->phase("scan", 0);
    std::vector<ScanEntry> entries = scan_tree(root, {}, ctx);
    Manifest m(entries.size());
    std::vector<size_t> files;
    uint64_t total = 0;
    for (size_t i = 0; i < entries.size(); i++) {
        const auto &e = entries[i];
        m[i] = {e.type, e.rel, static_cast<uint32_t>(e.st.st_mode & 07777), 0, e.st.mtime_ns, {}};
        if (e.type == 'f') {
            m[i].size = static_cast<uint64_t>(e.st.st_size);
            files.push_back(i);
            total += m[i].size;
        } else {
            m[i].hash = sha256_hex(e.type == 'l' ? e.link_target.str() : base_name(e.rel));
        }
    }
    if (ctx) ctx->phase("hash", files.size(), total);
    parallel_for(files.size(), ctx, [&](size_t k) -> uint64_t {
        ManifestEntry &me = m[files[k]];
        UniqueFd fd = root.open_regular(me.rel);
        me.hash = sha256_fd(fd.get(), root.display(me.rel));
        return me.size;
    });
    return m;
}

std::string payload_root_hash_of_dir(const std::string &root, OpContext *ctx) {
    auto st = lstat_path(root);
    if (!st) fail_errno(ENOENT, "lstat", root);
    if (!S_ISDIR(st->st_mode)) return payload_root_hash({});
    std::vector<PayloadEntry> pe;
    for (const auto &e : build_manifest_from_dir(root, ctx)) pe.push_back(e.payload());
    return payload_root_hash(pe);
}

std::string manifest_root_hash(const Manifest &m) {
    return payload_root_hash(
        m.size(), [&](size_t i) { return std::string_view(m[i].rel); }, [&](size_t i) { return m[i].type; },
        [&](size_t i) { return m[i].payload(); });
}

std::optional<Manifest> read_trusted_manifest(const Repo &repo, const std::string &id) {
    auto m = read_manifest(repo.manifest_path(id));
    if (!m) return std::nullopt;
    auto d = try_load_descriptor(repo, id);
    if (!d || manifest_root_hash(*m) != d->payload_root_hash) return std::nullopt;
    return m;
}

Manifest load_or_build_manifest(const Repo &repo, const std::string &id) {
    if (auto m = read_trusted_manifest(repo, id)) return std::move(*m);
    return build_manifest_from_dir(repo.snapshot_dir(id));
}

Manifest worktree_view(const Manifest &m) { return worktree_view(Manifest(m)); }

Manifest worktree_view(Manifest &&m) {
    bool renamed = false, stray = false;
    for (auto &e : m) {
        if (!renamed_in_snapshots(e.rel)) continue;  // nearly every entry: no copy of its path
        auto rel = worktree_rel(e.rel);
        if (!rel) {  // the marker is never in a manifest; a stray one is no user data
            stray = true;
            e.type = 0;
            continue;
        }
        renamed = renamed || *rel != e.rel;
        e.rel = std::move(*rel);
    }
    if (stray) m.erase(std::remove_if(m.begin(), m.end(), [](const ManifestEntry &e) { return e.type == 0; }), m.end());
    // A renamed first component may sort elsewhere among its siblings, and a manifest jvs did not
    // write may list siblings in any order: restore path order, which callers merge against a scan.
    auto less = [](const ManifestEntry &a, const ManifestEntry &b) { return path_less(a.rel, b.rel); };
    if (renamed || !std::is_sorted(m.begin(), m.end(), less)) std::stable_sort(m.begin(), m.end(), less);
    return std::move(m);
}

std::unordered_map<std::string_view, const ManifestEntry *> index_manifest(const Manifest &m) {
    std::unordered_map<std::string_view, const ManifestEntry *> idx;
    idx.reserve(m.size());
    for (const auto &e : m) idx.emplace(e.rel, &e);
    return idx;
}

}  // namespace jvs
