// jvs_history and jvs_resolve: read-only views of the snapshot graph.
#include <functional>
#include <set>

#include "ops/ops.hpp"
#include "repo/refs.hpp"
#include "repo/snapshots.hpp"
#include "util/error.hpp"

namespace jvs {

namespace {
bool matches(const Descriptor &d, const HistoryOptions &o) {
    if (!o.grep.empty() && d.note.find(o.grep) == std::string::npos) return false;
    if (!o.tag.empty() && std::find(d.tags.begin(), d.tags.end(), o.tag) == d.tags.end()) return false;
    return true;
}

// Head first, then parents, handing each descriptor to `take` until it returns false; stops at a
// missing or unreadable descriptor (reported) or a cycle. Loading lazily lets `limit` stop the
// walk: history with limit 1 reads one descriptor, not the whole lineage.
void walk_lineage(const Repo &repo, const std::string &head, Doc &doc,
                  const std::function<bool(const Descriptor &)> &take) {
    std::set<std::string> seen;
    for (std::string id = head; !id.empty();) {
        if (!seen.insert(id).second) {
            doc["truncated"] = "cycle at " + id;
            return;
        }
        auto d = try_load_descriptor(repo, id);
        if (!d) {
            doc["truncated"] = "missing or unreadable snapshot " + id;
            return;
        }
        if (!take(*d)) return;
        id = d->parent_id;
    }
}
}  // namespace

Doc op_history(const Session &s, const HistoryOptions &o) {
    if (o.limit < 0) fail("E_OPTION_INVALID", "limit must be >= 0", "a limit of 0 means no limit", {{"key", "limit"}});
    WorktreeConfig cfg = s.repo.load_worktree(o.worktree);
    Doc doc = make_doc("history");
    doc["worktree"] = cfg.name;
    doc["mode"] = o.all ? "all" : "lineage";
    if (!cfg.head_snapshot_id.empty()) doc["head_snapshot_id"] = cfg.head_snapshot_id;
    if (!cfg.latest_snapshot_id.empty()) doc["latest_snapshot_id"] = cfg.latest_snapshot_id;
    Doc list = Doc::array();
    auto take = [&](const Descriptor &d) {  // false once `limit` snapshots were found
        if (matches(d, o)) list.push_back(descriptor_to_json(d));
        return o.limit == 0 || static_cast<int64_t>(list.size()) < o.limit;
    };
    if (o.all) {
        for (const auto &d : list_snapshots(s.repo))
            if (!take(d)) break;
    } else {
        walk_lineage(s.repo, cfg.head_snapshot_id, doc, take);
    }
    doc["snapshots"] = std::move(list);
    return doc;
}

Doc op_resolve(const Session &s, const ResolveOptions &o) {
    std::optional<WorktreeConfig> cfg;
    if (s.repo.worktree_exists(o.worktree)) cfg = s.repo.load_worktree(o.worktree);
    ResolvedRef r = resolve_ref(s.repo, cfg, o.ref);
    Doc doc = make_doc("resolve");
    doc["ref"] = o.ref;
    doc["matched_by"] = r.matched_by;
    doc["snapshot"] = descriptor_to_json(r.descriptor);
    return doc;
}

}  // namespace jvs
