// Repository-level documents: the handle's repo document and jvs_info.
#include "engine/engine.hpp"
#include "engine/select.hpp"
#include "jvs.h"
#include "ops/ops.hpp"
#include "repo/snapshots.hpp"

#include <linux/fs.h>

namespace jvs {

Doc repo_doc(const Session &s, bool created) {
    Doc doc = make_doc("repo");
    doc["format_version"] = s.repo.format_version();
    doc["repo_id"] = s.repo.repo_id();
    doc["repo_root"] = s.repo.root();
    doc["layout"] = s.repo.adopted() ? "adopted" : "standard";
    if (s.worktree) {
        doc["worktree"] = *s.worktree;
        doc["worktree_path"] = s.repo.payload_path(*s.worktree);
    }
    doc["created"] = created;
    return doc;
}

Doc op_info(const Session &s, const std::optional<std::string> &worktree) {
    Doc doc = make_doc("info");
    doc["format_version"] = s.repo.format_version();
    doc["repo_id"] = s.repo.repo_id();
    doc["repo_root"] = s.repo.root();
    doc["layout"] = s.repo.adopted() ? "adopted" : "standard";
    EngineChoice engine = choose_engine(s.repo, false);  // read-only: never probes by writing
    doc["engine"] = engine_name(engine.kind);
    doc["engine_source"] = engine.source;
    if (!engine.shortfall.empty()) doc["engine_detail"] = engine.shortfall;  // why not the better engine
    doc["total_snapshots"] = list_snapshots(s.repo).size();
    doc["total_worktrees"] = s.repo.worktree_names().size();
    if (worktree) {
        doc["worktree"] = *worktree;
        doc["worktree_path"] = s.repo.payload_path(*worktree);
    }
    doc["version"] = JVS_VERSION_STRING;
    return doc;
}

std::vector<std::string> build_features() {
    // Per build: what this library always does.
    std::vector<std::string> f = {"engine:copy", "stat-cache", "hardlink-dedup", "in-place-restore", "locks"};
#ifdef FICLONE
    // Per build: the reflink engine is compiled in. Whether a repository's filesystem can clone is
    // per repository: info.engine says which engine it uses.
    f.push_back("engine:reflink-copy");
#endif
    // Per machine, at this call: the juicefs-clone engine needs a juicefs executable on PATH (and a
    // repository on a JuiceFS mount, which info.engine tells).
    if (!juicefs_binary().empty()) f.push_back("engine:juicefs-clone");
    return f;
}

}  // namespace jvs
