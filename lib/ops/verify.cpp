// jvs_verify: recompute descriptor checksums and payload hashes.
#include "format/payload_hash.hpp"
#include "repo/manifest.hpp"
#include "ops/ops.hpp"
#include "repo/refs.hpp"
#include "repo/snapshots.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <dirent.h>

#include <algorithm>

namespace jvs {

namespace {
Doc verify_one(const Repo &repo, const std::string &id, bool payload, OpContext &ctx) {
    Doc r = {{"snapshot_id", id}, {"checksum_valid", false}, {"payload_hash_valid", false}, {"tamper_detected", false}};
    auto flag = [&](const std::string &code, const std::string &msg, bool tamper) {
        r["tamper_detected"] = tamper;
        r["code"] = code;
        r["error"] = msg;
    };
    Descriptor d;
    try {
        d = load_descriptor(repo, id);
    } catch (const Error &e) {
        flag(e.code == "E_REF_NOT_FOUND" ? "E_DESCRIPTOR_CORRUPT" : e.code, "descriptor: " + e.message, true);
        return r;
    }
    bool checksum_ok = descriptor_checksum(d) == d.descriptor_checksum;
    r["checksum_valid"] = checksum_ok;
    if (!checksum_ok) flag("E_CHECKSUM_MISMATCH", "descriptor checksum mismatch", true);
    if (!payload) return r;
    if (!is_directory(repo.snapshot_dir(id))) {
        flag("E_SNAPSHOT_INCOMPLETE", "payload directory missing", true);
        return r;
    }
    try {
        bool ok = payload_root_hash_of_dir(repo.snapshot_dir(id), &ctx) == d.payload_root_hash;
        r["payload_hash_valid"] = ok;
        if (!ok && checksum_ok) flag("E_PAYLOAD_HASH_MISMATCH", "payload hash mismatch", true);
    } catch (const Error &e) {
        if (checksum_ok) flag(e.code, "payload: " + e.message, e.code == "E_SPECIAL_FILE");
    }
    return r;
}

// Every snapshot directory that is not in flight (*.tmp): a directory without a descriptor is
// reported too, as the Go tool does.
std::vector<std::string> all_snapshot_ids(const Repo &repo) {
    std::vector<std::string> ids;
    DIR *d = ::opendir(repo.snapshots_dir().c_str());
    if (!d) return ids;
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0)) continue;
        if (is_directory(repo.snapshot_dir(n))) ids.push_back(n);
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}
}  // namespace

Doc op_verify(const Session &s, const VerifyOptions &o, OpContext &ctx) {
    std::vector<std::string> ids;
    if (!o.ref.empty()) {
        std::optional<WorktreeConfig> cfg;
        if (s.repo.worktree_exists(o.worktree)) cfg = s.repo.load_worktree(o.worktree);
        ids.push_back(resolve_ref(s.repo, cfg, o.ref).descriptor.snapshot_id);
    } else {
        ids = all_snapshot_ids(s.repo);
    }
    Doc doc = make_doc("verify");
    Doc results = Doc::array();
    bool ok = true;
    ctx.phase("verify", ids.size());
    for (const auto &id : ids) {
        Doc r = verify_one(s.repo, id, o.payload, ctx);
        if (r.contains("code")) ok = false;
        results.push_back(std::move(r));
        ctx.advance(1);
    }
    doc["ok"] = ok;
    doc["payload_checked"] = o.payload;
    doc["results"] = std::move(results);
    return doc;
}

}  // namespace jvs
