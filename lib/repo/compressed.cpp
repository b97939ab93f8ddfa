#include "repo/compressed.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <unordered_map>

#include "repo/repo.hpp"
#include "repo/snapshots.hpp"
#include "repo/stat_cache.hpp"
#include "util/beneath.hpp"
#include "util/context.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/gzip.hpp"
#include "util/sha256.hpp"

namespace jvs {

bool is_compressed(const Descriptor &d) {
    if (!d.compression || !d.compression->is_object()) return false;
    auto it = d.compression->find("type");
    if (it == d.compression->end() || !it->is_string()) return true;  // a compression we cannot name: not plain
    std::string t = it->get<std::string>();
    return !t.empty() && t != "none";
}

nlohmann::ordered_json CompressedView::to_json(const Descriptor &d) const {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["type"] = d.compression && d.compression->contains("type") ? (*d.compression)["type"] : nlohmann::ordered_json("gzip");
    if (d.compression && d.compression->contains("level")) j["level"] = (*d.compression)["level"];
    j["verdict"] = verdict;
    j["inflated_files"] = inflated;
    j["modes_inferred"] = modes_inferred;
    j["mtimes_lost"] = static_cast<uint64_t>(degradations.size());
    if (!problem.empty()) j["problem"] = problem;
    return j;
}

namespace {
constexpr std::string_view kGz = ".gz";

bool ends_with_gz(std::string_view n) { return n.size() > kGz.size() && n.substr(n.size() - kGz.size()) == kGz; }

// A nearby uncompressed snapshot: where the Go tool's lost modes and mtimes are found again. Asked
// path by path: its stored manifest when jvs wrote a trusted one, else its directory (an entry's
// lstat beneath it, its content hashed only when the size already matches), never read whole.
class Reference {
   public:
    struct Entry {
        char type = 'f';
        uint32_t perm = 0;
        int64_t mtime_ns = 0;
        uint64_t size = 0;
    };
    Reference(const Repo &repo, const std::string &id) : dir_(Dir::open_root(repo.snapshot_dir(id))) {
        if ((manifest_ = read_trusted_manifest(repo, id))) index_ = index_manifest(*manifest_);
    }
    Reference(Reference &&) = default;

    // The entry at `rel` (a snapshot-side path), if any.
    std::optional<Entry> at(const std::string &rel) const {
        if (manifest_) {
            auto it = index_.find(rel);
            if (it == index_.end()) return std::nullopt;
            return Entry{it->second->type, it->second->perm, it->second->mtime_ns, it->second->size};
        }
        try {
            auto st = dir_.lstat(rel);
            if (!st) return std::nullopt;
            char t = S_ISDIR(st->st_mode) ? 'd' : S_ISLNK(st->st_mode) ? 'l' : S_ISREG(st->st_mode) ? 'f' : 0;
            if (!t) return std::nullopt;
            return Entry{t, static_cast<uint32_t>(st->st_mode & 07777), mtime_ns(*st), static_cast<uint64_t>(st->st_size)};
        } catch (const Error &) {
            return std::nullopt;  // below a symlink, unreadable: no evidence
        }
    }
    // The regular file at `rel` holds exactly `size` bytes hashing to `hash`.
    std::optional<Entry> holds(const std::string &rel, uint64_t size, const std::string &hash) const {
        auto e = at(rel);
        if (!e || e->type != 'f' || e->size != size) return std::nullopt;
        std::string h;
        if (manifest_) {
            h = index_.at(rel)->hash;
        } else {
            try {
                UniqueFd fd = dir_.open_regular(rel);
                h = sha256_fd(fd.get(), dir_.display(rel));
            } catch (const Error &) {
                return std::nullopt;
            }
        }
        return h == hash ? e : std::nullopt;
    }
    std::string link_target(const std::string &rel) const {
        try {
            return dir_.read_link(rel);
        } catch (const Error &) {
            return {};
        }
    }

   private:
    Dir dir_;
    std::optional<Manifest> manifest_;
    std::unordered_map<std::string_view, const ManifestEntry *> index_;  // into *manifest_ (a moved optional keeps its heap buffer)
};

std::vector<Reference> load_references(const Repo &repo, const Descriptor &d) {
    std::vector<Descriptor> plain;
    for (auto &s : list_snapshots(repo))
        if (s.snapshot_id != d.snapshot_id && !is_compressed(s)) plain.push_back(std::move(s));
    auto dist = [&](const Descriptor &s) { return std::llabs(s.created_at.unix_ns() - d.created_at.unix_ns()); };
    std::stable_sort(plain.begin(), plain.end(), [&](const Descriptor &a, const Descriptor &b) {
        bool wa = a.worktree_name == d.worktree_name, wb = b.worktree_name == d.worktree_name;
        if (wa != wb) return wa;  // the same worktree's history first
        return dist(a) < dist(b);
    });
    constexpr size_t kMaxReferences = 4;
    std::vector<Reference> refs;
    for (const auto &s : plain) {
        if (refs.size() == kMaxReferences) break;
        try {
            refs.emplace_back(repo, s.snapshot_id);
        } catch (const Error &) {
            // a damaged neighbour tells nothing; the next one may
        }
    }
    return refs;
}

struct Child {
    std::string name;    // the user's name
    std::string source;  // the name in the snapshot directory
    ManifestEntry entry;
    bool inflate = false;
    std::string link_target;  // a symlink given back from a neighbour
    bool mode_known = true;   // perm came from the file itself or a reference
    bool mtime_known = true;
    bool is_dir = false;
};

class Reader {
   public:

    Reader(const Dir &snap, const std::vector<Reference> &refs, CompressedView &v, OpContext *ctx)
        : snap_(snap), refs_(refs), v_(v), ctx_(ctx) {}

    void walk(const std::string &dir_rel) {
        std::vector<Child> kids;
        for (const auto &n : snap_.list(dir_rel)) {
            std::string src = dir_rel.empty() ? n : dir_rel + "/" + n;
            if (dir_rel.empty() && (n == ".READY" || n == ".READY.gz")) {
                read_marker(src, n == ".READY.gz");
                continue;
            }
            if (auto c = child(dir_rel, n, src)) kids.push_back(std::move(*c));
            if (ctx_) ctx_->advance(1);
        }
        std::sort(kids.begin(), kids.end(), [](const Child &a, const Child &b) { return a.name < b.name; });
        for (size_t i = 0; i < kids.size(); i++) {
            Child &k = kids[i];
            if (i > 0 && kids[i - 1].name == k.name) {
                // `x` and `x.gz` both (a compression interrupted between writing one and removing
                // the other): the same content is the same file, anything else is not one tree.
                const ManifestEntry &prev = v_.manifest[index_of_.at(k.entry.rel)];
                if (prev.hash != k.entry.hash || prev.type != k.entry.type)
                    unverified(k.entry.rel + " is stored twice, compressed and not, with different content");
                continue;
            }
            if (!k.mode_known) unknown_modes_.push_back(v_.manifest.size());
            if (!k.mtime_known)
                v_.degradations.push_back({"mtime_lost", k.entry.rel,
                                           "the Go tool's compression dropped it; the time of compression is kept"});
            index_of_[k.entry.rel] = v_.manifest.size();
            v_.manifest.push_back(k.entry);
            v_.source.push_back(k.source);
            v_.inflate.push_back(k.inflate ? 1 : 0);
            v_.link_target.push_back(k.link_target);
            if (k.is_dir) walk(k.entry.rel);
        }
    }

    std::vector<size_t> unknown_modes_;  // manifest indexes whose mode is a guess

   private:
    void unverified(const std::string &why) {
        if (v_.verdict == "damaged") return;
        v_.verdict = "unverified";
        if (v_.problem.empty()) v_.problem = why;
    }
    void damaged(const std::string &why) {
        if (v_.verdict != "damaged") v_.problem.clear();
        v_.verdict = "damaged";
        if (v_.problem.empty()) v_.problem = why;
    }

    void read_marker(const std::string &src, bool gz) {
        std::string why;
        v_.ready = gz ? inflate_small_file(snap_, src, 1 << 16, &why) : snap_.read_small_file(src, 1 << 16);
        if (!why.empty()) damaged(src + ": " + why);
    }

    std::optional<Child> child(const std::string &dir_rel, const std::string &n, const std::string &src) {
        auto st = snap_.lstat(src);
        if (!st) return std::nullopt;  // vanished meanwhile: the hash check reports what is missing
        Child c;
        c.name = n;
        c.source = src;
        c.entry.perm = static_cast<uint32_t>(st->st_mode & 07777);
        c.entry.mtime_ns = mtime_ns(*st);
        auto rel_of = [&](const std::string &name) { return dir_rel.empty() ? name : dir_rel + "/" + name; };
        c.entry.rel = src;
        if (S_ISDIR(st->st_mode)) {
            c.is_dir = true;
            c.entry.type = 'd';
            c.entry.hash = sha256_hex(n);
            return c;
        }
        if (S_ISLNK(st->st_mode)) {
            c.entry.type = 'l';
            c.entry.hash = sha256_hex(snap_.read_link(src));
            return c;
        }
        if (!S_ISREG(st->st_mode))
            fail("E_SPECIAL_FILE", "not a regular file, directory or symlink: " + snap_.display(src),
                 "a snapshot holds none; run jvs verify", {{"path", src}});
        c.entry.type = 'f';
        bool candidate = ends_with_gz(n) && !ends_with_gz(n.substr(0, n.size() - kGz.size()));
        if (!candidate) {  // the Go tool left it alone (a user's `*.gz`, or a compression cut short)
            UniqueFd fd = snap_.open_regular(src);
            c.entry.hash = sha256_fd(fd.get(), snap_.display(src));
            c.entry.size = static_cast<uint64_t>(st->st_size);
            return c;
        }
        // One read: the bytes as stored and as inflated, both hashed.
        Sha256 raw_sha, out_sha;
        std::string head;
        uint64_t out_size = 0;
        std::string why;
        {
            UniqueFd fd = snap_.open_regular(src);
            why = gunzip_fd(
                fd.get(), snap_.display(src),
                [&](const char *p, size_t k) {
                    out_sha.update(p, k);
                    out_size += k;
                },
                [&](const char *p, size_t k) {
                    raw_sha.update(p, k);
                    if (head.size() < 10) head.append(p, std::min(k, 10 - head.size()));
                });
        }
        std::string raw_hash = raw_sha.hex(), out_hash = out_sha.hex();
        std::string stem = n.substr(0, n.size() - kGz.size());
        std::string stem_rel = rel_of(stem);
        auto keep_as_is = [&] {
            c.entry.hash = raw_hash;
            c.entry.size = static_cast<uint64_t>(st->st_size);
            return c;
        };
        // Evidence first: the nearest uncompressed snapshot holding either reading of this file.
        for (const auto &r : refs_) {
            if (why.empty())
                if (auto e = r.holds(stem_rel, out_size, out_hash)) {
                    c.name = stem;
                    c.entry.rel = stem_rel;
                    c.entry.hash = out_hash;
                    c.entry.size = out_size;
                    c.entry.perm = e->perm;
                    c.entry.mtime_ns = e->mtime_ns;
                    c.inflate = true;
                    v_.inflated++;
                    return c;
                }
            // The Go tool compressed a symlink as a file of its target's content: the neighbour's link
            // (only the hash check below can confirm it; the link's target is all the hash covers).
            if (auto e = r.at(stem_rel); why.empty() && e && e->type == 'l') {
                std::string target = r.link_target(stem_rel);
                if (!target.empty()) {
                    c.name = stem;
                    c.entry.rel = stem_rel;
                    c.entry.type = 'l';
                    c.entry.hash = sha256_hex(target);
                    c.entry.perm = e->perm;
                    c.entry.mtime_ns = e->mtime_ns;
                    c.entry.size = 0;
                    c.link_target = std::move(target);
                    return c;
                }
            }
            if (r.holds(src, static_cast<uint64_t>(st->st_size), raw_hash)) return keep_as_is();
        }
        // Without evidence: compressed when it carries what the Go tool wrote (its gzip header, mode
        // 0600 or less), a user's own file otherwise (kept as it is, as the Go tool kept it).
        if (!is_go_gzip_header(head) || (st->st_mode & 077) != 0) return keep_as_is();
        if (!why.empty()) damaged(snap_.display(src) + ": " + why);
        c.name = stem;
        c.entry.rel = stem_rel;
        c.entry.hash = out_hash;
        c.entry.size = out_size;
        c.inflate = true;
        c.mode_known = c.mtime_known = false;
        c.entry.perm = 0644;  // the common mode under umask 022; the hash search below confirms or corrects
        for (const auto &r : refs_)  // the same path's mode in a neighbour, whatever it held then
            if (auto e = r.at(stem_rel); e && e->type == 'f') {
                c.entry.perm = e->perm;
                break;
            }
        v_.inflated++;
        return c;
    }

    const Dir &snap_;
    const std::vector<Reference> &refs_;
    CompressedView &v_;
    OpContext *ctx_;
    std::unordered_map<std::string, size_t> index_of_;
};

// The files whose modes the compression lost and no reference gave: the modes files usually have,
// each file varied alone, then every 0644/0755 combination when there are few such files. The
// first assignment that makes the tree hash to payload_root_hash is the one the Go tool hashed.
bool search_modes(Manifest &m, const std::vector<size_t> &unknown, const std::string &want) {
    if (manifest_root_hash(m) == want) return true;
    if (unknown.empty()) return false;
    static const uint32_t kModes[] = {0644, 0755, 0600, 0664, 0775, 0700, 0444, 0555, 0666, 0777, 0640, 0750};
    const uint64_t budget = 20'000'000;  // manifest lines hashed, at most
    uint64_t spent = 0;
    auto affordable = [&] { return (spent += m.size() + 1) <= budget; };
    for (size_t i : unknown) {
        uint32_t was = m[i].perm;
        for (uint32_t p : kModes) {
            if (p == was) continue;
            if (!affordable()) return false;
            m[i].perm = p;
            if (manifest_root_hash(m) == want) return true;
        }
        m[i].perm = was;
    }
    if (unknown.size() > 12) return false;
    std::vector<uint32_t> was;
    for (size_t i : unknown) was.push_back(m[i].perm);
    for (uint64_t bits = 0; bits < (1ULL << unknown.size()); bits++) {
        if (!affordable()) break;
        for (size_t k = 0; k < unknown.size(); k++) m[unknown[k]].perm = (bits >> k) & 1 ? 0755 : 0644;
        if (manifest_root_hash(m) == want) return true;
    }
    for (size_t k = 0; k < unknown.size(); k++) m[unknown[k]].perm = was[k];
    return false;
}
}  // namespace

CompressedView read_compressed_snapshot(const Repo &repo, const Descriptor &d, OpContext *ctx) {
    CompressedView v;
    v.verdict = "verified";
    std::vector<Reference> refs = load_references(repo, d);
    Dir snap = Dir::open_root(repo.snapshot_dir(d.snapshot_id));
    if (ctx) ctx->phase("inflate", 0);
    Reader r(snap, refs, v, ctx);
    r.walk("");
    if (v.verdict == "damaged") return v;
    bool ok = search_modes(v.manifest, r.unknown_modes_, d.payload_root_hash);
    if (!ok) {
        v.verdict = "unverified";
        if (v.problem.empty())
            v.problem = "the inflated files do not hash to payload_root_hash with any mode jvs could infer "
                        "(changed after compression, or modes beyond recovery)";
        return v;
    }
    if (v.verdict == "verified") v.modes_inferred = r.unknown_modes_.size();
    return v;
}

std::optional<std::string> inflate_small_file(const Dir &dir, const std::string &rel, size_t max, std::string *why) {
    std::string bytes;
    try {
        auto st = dir.lstat(rel);
        if (!st) return std::nullopt;
        UniqueFd fd = dir.open_regular(rel);
        *why = gunzip_fd(fd.get(), dir.display(rel), [&](const char *p, size_t n) {
            if (bytes.size() + n > max) throw Error("E_IO", "inflates to more than " + std::to_string(max) + " bytes");
            bytes.append(p, n);
        });
    } catch (const Error &e) {
        *why = e.message;
    }
    if (!why->empty()) return std::nullopt;
    return bytes;
}

namespace {
void set_times_fd(int fd, int64_t ns, const std::string &display) {
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(ns / 1000000000LL);
    ts[0].tv_nsec = ts[1].tv_nsec = static_cast<long>(ns % 1000000000LL);
    if (::futimens(fd, ts) != 0) fail_errno(errno, "futimens", display);
}
}  // namespace

void expand_compressed_snapshot(const Dir &snapshot, const CompressedView &v, const Dir &into, OpContext *ctx,
                                const std::unordered_set<std::string> *only) {
    if (ctx) ctx->phase("expand", v.manifest.size());
    std::vector<size_t> dirs;
    for (size_t i = 0; i < v.manifest.size(); i++) {
        const ManifestEntry &e = v.manifest[i];
        const std::string &src = v.source[i];
        if (e.type == 'd') {
            into.mkdir(e.rel, 0700);  // writable until its files are in; its mode is set last
            dirs.push_back(i);
        } else if (only && !only->count(e.rel)) {
            // not needed by this checkout
        } else if (e.type == 'l') {
            into.symlink(v.link_target[i].empty() ? snapshot.read_link(src) : v.link_target[i], e.rel);
        } else {
            UniqueFd in = snapshot.open_regular(src);
            UniqueFd out = into.open(e.rel, O_WRONLY | O_CREAT | O_EXCL, 0600);
            std::string display = into.display(e.rel);
            if (v.inflate[i]) {
                std::string why = gunzip_fd(in.get(), snapshot.display(src),
                                            [&](const char *p, size_t n) { write_all(out.get(), p, n, display); });
                if (!why.empty())
                    fail("E_COMPRESSED_UNVERIFIED", snapshot.display(src) + " changed while it was read: " + why,
                         "run `jvs verify` on the snapshot", {{"path", e.rel}});
            } else {
                copy_data(in.get(), out.get(), display, nullptr, true);
            }
            if (::fchmod(out.get(), e.perm) != 0) fail_errno(errno, "fchmod", display);
            set_times_fd(out.get(), e.mtime_ns, display);
        }
        if (ctx) ctx->advance(1);
    }
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {  // deepest first: children touch parents' mtimes
        const ManifestEntry &e = v.manifest[*it];
        UniqueFd fd = into.open(e.rel, O_RDONLY | O_DIRECTORY);
        if (::fchmod(fd.get(), e.perm) != 0) fail_errno(errno, "fchmod", into.display(e.rel));
        set_times_fd(fd.get(), e.mtime_ns, into.display(e.rel));
    }
}

}  // namespace jvs
