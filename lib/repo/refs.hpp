// Snapshot references: HEAD, <ref>~N, full id, tag, id prefix, tag prefix, note prefix.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "format/descriptor.hpp"
#include "format/worktree_config.hpp"

namespace jvs {

class Repo;

struct ResolvedRef {
    Descriptor descriptor;
    std::string matched_by;  // head | latest | id | tag | id_prefix | tag_prefix | note_prefix
};

enum class HeadMeans { Head, Latest };

// Precedence (the first rule with any match wins): HEAD; exact id; exact tag (the newest snapshot
// carrying it); unique id prefix; unique tag prefix; unique note prefix. A rule with several matches
// throws E_REF_AMBIGUOUS listing the candidates; no match throws E_REF_NOT_FOUND with suggestions.
// A "~N" suffix then walks N parents back.
ResolvedRef resolve_ref(const Repo &repo, const std::optional<WorktreeConfig> &worktree, std::string_view ref,
                        HeadMeans head_means = HeadMeans::Head);

}  // namespace jvs
