// What restore, fork, `worktree create --from` and diff read of a snapshot: its manifest and the
// directory its files are copied from. For a snapshot the Go tool compressed (repo/compressed.hpp)
// that is the tree the user had, checked against payload_root_hash, and an inflated copy of it in a
// temporary directory under .jvs/cache (removed with this object; doctor removes one a crash left).
#pragma once
#include <optional>
#include <string>

#include "ops/checkout.hpp"
#include "ops/ops.hpp"
#include "repo/compressed.hpp"
#include "repo/manifest.hpp"
#include "util/beneath.hpp"

namespace jvs {

class SnapshotSource {
   public:
    // Throws E_COMPRESSED_UNVERIFIED for a compressed snapshot jvs cannot read back exactly.
    static SnapshotSource open(const Repo &repo, const Descriptor &d, OpContext &ctx);
    SnapshotSource(SnapshotSource &&) = default;
    SnapshotSource &operator=(SnapshotSource &&) = delete;
    ~SnapshotSource();

    const Manifest &manifest() const { return manifest_; }
    bool compressed() const { return view_.has_value(); }
    // The directory the files of `plan` are copied from (a compressed snapshot is inflated at the
    // first call: its directories and the files the plan writes, no more).
    const Dir &files(const CheckoutPlan &plan, OpContext &ctx);
    // Removes the inflated copy now (before a syncfs, so its pages are never written back).
    void release();
    // Adds `compression` (the verdict) and the degradations the Go tool's compression caused.
    void annotate(Doc &doc) const;

   private:
    SnapshotSource(const Repo &repo, const Descriptor &d) : repo_(&repo), d_(d) {}
    const Repo *repo_;
    Descriptor d_;
    Manifest manifest_;
    std::optional<CompressedView> view_;
    std::optional<Dir> files_;
    std::string staging_;
};

// The manifest of a snapshot as the user's tree (inflated names for a compressed one; throws as open).
Manifest snapshot_manifest(const Repo &repo, const Descriptor &d, OpContext &ctx);

}  // namespace jvs
