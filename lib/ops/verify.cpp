// jvs_verify: recompute descriptor checksums and payload hashes.
#include "format/payload_hash.hpp"
#include "ops/integrity.hpp"
#include "repo/compressed.hpp"
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
// A snapshot the Go tool compressed: its marker and files are read inflated, and the tree they make
// (repo/compressed.hpp) must hash to payload_root_hash. Its own verdict in `compression`: verified,
// unverified (E_COMPRESSED_UNVERIFIED: the files inflate, the tree does not hash to it with any mode
// jvs could infer) or damaged (a compressed file is not intact gzip data: tampered).
void verify_compressed(const Repo &repo, const Descriptor &d, bool payload, Doc &r, OpContext &ctx) {
    auto flag = [&](const std::string &code, const std::string &msg, bool tamper) {
        if (r.contains("code")) return;
        r["tamper_detected"] = tamper;
        r["code"] = code;
        r["error"] = msg;
    };
    std::optional<std::string> ready;
    std::string why;
    std::optional<CompressedView> view;
    try {
        if (payload) {
            view = read_compressed_snapshot(repo, d, &ctx);
            ready = view->ready;
        } else {
            Dir snap = Dir::open_root(repo.snapshot_dir(d.snapshot_id));
            ready = snap.lstat(".READY.gz") ? inflate_small_file(snap, ".READY.gz", 1 << 16, &why)
                                            : snap.read_small_file(".READY", 1 << 16);
        }
    } catch (const Error &e) {
        flag(e.code, "payload: " + e.message, e.code == "E_SPECIAL_FILE" || e.code == "E_PATH_UNSAFE");
        return;
    }
    if (!why.empty()) flag("E_READY_MISMATCH", ".READY.gz: " + why, true);
    if (auto problem = check_ready_bytes(ready, d, ".READY.gz")) flag("E_READY_MISMATCH", *problem, true);
    if (!view) {
        Doc c = {{"verdict", "not_checked"}};
        r["compression"] = c;
        return;
    }
    r["compression"] = view->to_json(d);
    r["payload_hash_valid"] = view->verdict == "verified";
    if (view->verdict == "damaged")
        flag("E_PAYLOAD_HASH_MISMATCH", "compressed snapshot damaged: " + view->problem, true);
    else if (view->verdict == "unverified")
        flag("E_COMPRESSED_UNVERIFIED", "compressed snapshot not verified: " + view->problem, false);
}

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
    // integrity_state and key spellings are outside the checksum: the file must be the exact encoding
    // of its fields, as both tools write it.
    if (checksum_ok) {
        auto raw = read_file_if_exists(repo.descriptor_path(id));
        if (raw && serialize_descriptor(d) != *raw)
            flag("E_DESCRIPTOR_CORRUPT", "descriptor bytes are not the encoding of its fields (edited?)", true);
        // Both tools write "verified" and never change it; it is outside the checksum, so any other
        // value was written by hand (and no decision of jvs reads it).
        else if (d.integrity_state != "verified")
            flag("E_DESCRIPTOR_CORRUPT", "integrity_state is '" + d.integrity_state + "', not 'verified' (edited?)", true);
    }
    std::string dir = repo.snapshot_dir(id);
    if (!is_directory(dir)) {
        if (!r.contains("code")) flag("E_SNAPSHOT_INCOMPLETE", "payload directory missing", true);
        return r;
    }
    if (is_compressed(d)) {
        verify_compressed(repo, d, payload, r, ctx);
        return r;
    }
    if (!r.contains("code"))
        if (auto problem = check_ready_marker(dir, d)) flag("E_READY_MISMATCH", *problem, true);
    if (!payload) return r;
    try {
        Manifest actual;
        {
            OpContext::Nested inner(ctx);  // the `verify` phase goes on; hashed bytes add to bytes_done
            actual = build_manifest_from_dir(dir, &ctx);
        }
        bool ok = manifest_root_hash(actual) == d.payload_root_hash;
        std::string diff;
        // A trusted stored manifest (ours only; one that disagrees with the descriptor is doctor's
        // manifest_mismatch, not damage to the snapshot) must describe the same tree, mode bits
        // the payload hash leaves out included; it also names what was added or lost.
        if (auto stored = read_trusted_manifest(repo, id)) {
            auto have = index_manifest(actual), want = index_manifest(*stored);
            std::vector<std::string> extra, missing, changed;
            for (const auto &[rel, m] : have) {
                auto it = want.find(rel);
                if (it == want.end()) extra.push_back(rel);
                else if (it->second->type != m->type || it->second->hash != m->hash || it->second->size != m->size ||
                         (m->type != 'l' && it->second->perm != m->perm))  // setuid/sticky bits too
                    changed.push_back(rel);
            }
            for (const auto &[rel, m] : want)
                if (!have.count(rel)) missing.push_back(rel);
            auto list = [](const char *what, std::vector<std::string> v) {
                if (v.empty()) return std::string();
                std::sort(v.begin(), v.end());
                std::string out = std::string("; ") + what + ": ";
                for (size_t i = 0; i < v.size() && i < 5; i++) out += (i ? ", " : "") + v[i];
                if (v.size() > 5) out += ", ...";
                return out;
            };
            diff = list("extra", extra) + list("missing", missing) + list("changed", changed);
            if (!diff.empty()) ok = false;
        }
        r["payload_hash_valid"] = ok;
        if (!ok && !r.contains("code")) flag("E_PAYLOAD_HASH_MISMATCH", "payload hash mismatch" + diff, true);
    } catch (const Error &e) {
        if (!r.contains("code"))
            flag(e.code, (e.code == "E_PATH_UNSAFE" ? "manifest: " : "payload: ") + e.message,
                 e.code == "E_SPECIAL_FILE" || e.code == "E_PATH_UNSAFE");
    }
    return r;
}

// A directory without a descriptor that an operation owns: a snapshot being (or interrupted while
// being) published names it in an intent, a gc run deleting it left a tombstone. Neither is a
// published snapshot to verify; doctor reports the interrupted ones.
bool owned_unpublished(const Repo &repo, const std::string &id) {
    return !exists_nofollow(repo.descriptor_path(id)) &&
           (exists_nofollow(repo.intent_path(id)) || exists_nofollow(gc_tombstone_path(repo, id)));
}

// Every snapshot directory that is not in flight (*.tmp, or named by an intent or tombstone): a
// directory without a descriptor is reported too, as the Go tool does.
std::vector<std::string> all_snapshot_ids(const Repo &repo) {
    std::vector<std::string> ids;
    DIR *d = ::opendir(repo.snapshots_dir().c_str());
    if (!d) return ids;
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0)) continue;
        if (is_directory(repo.snapshot_dir(n)) && !owned_unpublished(repo, n)) ids.push_back(n);
    }
    ::closedir(d);
    // A published snapshot (descriptor) whose directory is gone is reported too.
    if (DIR *dd = ::opendir(repo.descriptors_dir().c_str())) {
        while (dirent *e = ::readdir(dd)) {
            std::string n = e->d_name;
            if (n.size() <= 5 || n.compare(n.size() - 5, 5, ".json") != 0 || n[0] == '.') continue;
            n.resize(n.size() - 5);
            if (!is_directory(repo.snapshot_dir(n))) ids.push_back(n);
        }
        ::closedir(dd);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}
// The payload bytes verify will hash, from the stored manifests' file sizes; 0 (unknown) as soon
// as one snapshot has no readable manifest (a Go-written one), so the phase never promises a
// total it cannot reach. A manifest this cannot read is verify_one's to report, not this estimate's.
uint64_t expected_payload_bytes(const Repo &repo, const std::vector<std::string> &ids) {
    uint64_t total = 0;
    for (const auto &id : ids) {
        std::optional<Manifest> m;
        try {
            m = read_manifest(repo.manifest_path(id));
        } catch (const Error &) {
        }
        if (!m) return 0;
        for (const auto &e : *m)
            if (e.type == 'f') total += e.size;
    }
    return total;
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
    Doc results = Doc::array(), skipped = Doc::array();
    bool ok = true;
    ctx.phase("verify", ids.size(), o.payload ? expected_payload_bytes(s.repo, ids) : 0);
    for (const auto &id : ids) {
        Doc r = verify_one(s.repo, id, o.payload, ctx);
        // Listed, then deleted by a concurrent gc run (it unpublishes first and leaves a tombstone):
        // gone on purpose, not damaged. A named ref is checked as it is.
        if (r.contains("code") && o.ref.empty() && owned_unpublished(s.repo, id)) {
            skipped.push_back({{"snapshot_id", id}, {"reason", "deleted by gc while verify ran"}});
            ctx.advance(1);
            continue;
        }
        if (r.contains("code")) ok = false;
        results.push_back(std::move(r));
        ctx.advance(1);
    }
    AuditChainResult chain = check_audit_chain(s.repo.audit_path(), s.repo.audit_anchor_path());
    doc["ok"] = ok && chain.ok;
    doc["payload_checked"] = o.payload;
    doc["results"] = std::move(results);
    if (!skipped.empty()) doc["skipped"] = std::move(skipped);
    doc["audit"] = audit_chain_json(chain);
    return doc;
}

}  // namespace jvs
