#include "repo/manifest.hpp"

#include <unistd.h>

#include "engine/scan.hpp"
#include "repo/repo.hpp"
#include "util/fs.hpp"
#include "util/records.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {
constexpr const char *kHeader = "jvs-manifest 1";
}

PayloadEntry ManifestEntry::payload() const { return {type, rel, perm & 0777, size, hash}; }

void write_manifest(const std::string &path, const Manifest &m) {
    std::vector<Record> recs;
    recs.reserve(m.size());
    for (const auto &e : m)
        recs.push_back({std::string(1, e.type), std::to_string(e.perm), std::to_string(e.size),
                        std::to_string(e.mtime_ns), e.hash, e.rel});
    atomic_write(path, encode_records(kHeader, recs), 0644);
}

std::optional<Manifest> read_manifest(const std::string &path) {
    auto raw = read_file_if_exists(path);
    if (!raw) return std::nullopt;
    auto recs = decode_records(kHeader, *raw);
    if (!recs) return std::nullopt;
    Manifest m;
    m.reserve(recs->size());
    try {
        for (auto &r : *recs) {
            if (r.size() != 6 || r[0].size() != 1) return std::nullopt;
            m.push_back({r[0][0], std::move(r[5]), static_cast<uint32_t>(std::stoul(r[1])), std::stoull(r[2]),
                         std::stoll(r[3]), std::move(r[4])});
        }
    } catch (...) {
        return std::nullopt;
    }
    return m;
}

Manifest build_manifest_from_dir(const std::string &root) {
    Manifest m;
    for (const auto &e : scan_tree(root, {}, nullptr)) {
        ManifestEntry me{e.type, e.rel, static_cast<uint32_t>(e.st.st_mode & 07777), 0,
                         e.st.st_mtim.tv_sec * 1000000000LL + e.st.st_mtim.tv_nsec, {}};
        if (e.type == 'f') {
            me.size = static_cast<uint64_t>(e.st.st_size);
            me.hash = sha256_file(path_join(root, e.rel));
        } else if (e.type == 'l') {
            me.hash = sha256_hex(e.link_target);
        } else {
            me.hash = sha256_hex(base_name(e.rel));
        }
        m.push_back(std::move(me));
    }
    return m;
}

Manifest load_or_build_manifest(const Repo &repo, const std::string &id) {
    if (auto m = read_manifest(repo.manifest_path(id))) return *m;
    return build_manifest_from_dir(repo.snapshot_dir(id));
}

std::unordered_map<std::string, const ManifestEntry *> index_manifest(const Manifest &m) {
    std::unordered_map<std::string, const ManifestEntry *> idx;
    idx.reserve(m.size());
    for (const auto &e : m) idx.emplace(e.rel, &e);
    return idx;
}

}  // namespace jvs
