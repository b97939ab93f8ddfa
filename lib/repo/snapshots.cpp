#include "repo/snapshots.hpp"

#include <dirent.h>

#include <algorithm>

#include "format/ids.hpp"
#include "repo/repo.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace jvs {

Descriptor load_descriptor(const Repo &repo, const std::string &id) {
    if (!is_snapshot_id(id))
        fail("E_REF_NOT_FOUND", "snapshot '" + id + "' not found", "list snapshots with `jvs history --all`",
             {{"ref", id}});
    auto raw = read_file_if_exists(repo.descriptor_path(id));
    if (!raw)
        fail("E_REF_NOT_FOUND", "snapshot '" + id + "' not found", "list snapshots with `jvs history --all`",
             {{"ref", id}});
    Descriptor d = parse_descriptor(*raw);
    // What operations join to directories is checked before any of them sees it (E_PATH_UNSAFE),
    // and a descriptor speaks only for the snapshot it is filed under.
    check_descriptor_paths(d);
    if (d.snapshot_id != id)
        fail("E_DESCRIPTOR_CORRUPT", "descriptor " + id + ".json describes another snapshot (" + d.snapshot_id + ")",
             "run `jvs doctor --strict`; restore another snapshot", {{"snapshot_id", id}});
    return d;
}

std::optional<Descriptor> try_load_descriptor(const Repo &repo, const std::string &id) {
    try {
        return load_descriptor(repo, id);
    } catch (const Error &) {
        return std::nullopt;
    }
}

bool is_published(const Repo &repo, const std::string &id) {
    return is_snapshot_id(id) && is_directory(repo.snapshot_dir(id)) && exists_nofollow(repo.descriptor_path(id));
}

std::vector<Descriptor> list_snapshots(const Repo &repo) {
    std::vector<Descriptor> out;
    DIR *d = ::opendir(repo.descriptors_dir().c_str());
    if (!d) return out;
    std::vector<std::string> ids;
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) {
            std::string id = n.substr(0, n.size() - 5);
            if (is_snapshot_id(id)) ids.push_back(id);
        }
    }
    ::closedir(d);
    for (const auto &id : ids) {
        if (!is_directory(repo.snapshot_dir(id))) continue;  // not (or no longer) published
        if (auto desc = try_load_descriptor(repo, id)) out.push_back(std::move(*desc));
    }
    std::sort(out.begin(), out.end(), [](const Descriptor &a, const Descriptor &b) {
        if (!(a.created_at == b.created_at)) return b.created_at < a.created_at;
        return a.snapshot_id > b.snapshot_id;
    });
    return out;
}

}  // namespace jvs
