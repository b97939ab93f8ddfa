#include "repo/refs.hpp"

#include <algorithm>

#include "format/ids.hpp"
#include "repo/repo.hpp"
#include "repo/snapshots.hpp"
#include "util/error.hpp"

namespace jvs {

namespace {
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

nlohmann::json candidate(const Descriptor &d) {
    nlohmann::json j = {{"snapshot_id", d.snapshot_id}, {"created_at", format_rfc3339nano(d.created_at)}};
    if (!d.note.empty()) j["note"] = d.note;
    if (!d.tags.empty()) j["tags"] = d.tags;
    return j;
}

[[noreturn]] void ambiguous(std::string_view ref, const std::string &rule, const std::vector<const Descriptor *> &m) {
    nlohmann::json cands = nlohmann::json::array();
    std::string ids;
    for (const auto *d : m) {
        cands.push_back(candidate(*d));
        if (ids.size() < 200) ids += (ids.empty() ? "" : ", ") + d->snapshot_id;
    }
    fail("E_REF_AMBIGUOUS", "reference '" + std::string(ref) + "' matches " + std::to_string(m.size()) +
                                " snapshots by " + rule + ": " + ids,
         "use a longer prefix or the full snapshot id", {{"ref", std::string(ref)}, {"rule", rule}, {"candidates", cands}});
}

[[noreturn]] void not_found(std::string_view ref, const std::vector<Descriptor> &all) {
    nlohmann::json sugg = nlohmann::json::array();
    for (const auto &d : all) {
        bool close = d.snapshot_id.find(ref) != std::string::npos || d.note.find(ref) != std::string::npos ||
                     std::any_of(d.tags.begin(), d.tags.end(),
                                 [&](const std::string &t) { return t.find(ref) != std::string::npos; });
        if (close && sugg.size() < 3) sugg.push_back(candidate(d));
    }
    std::string hint = sugg.empty() ? "list snapshots with `jvs history --all`"
                                    : "did you mean " + sugg[0]["snapshot_id"].get<std::string>() + "?";
    fail("E_REF_NOT_FOUND", "snapshot '" + std::string(ref) + "' not found", hint,
         {{"ref", std::string(ref)}, {"suggestions", sugg}});
}

// Splits "x~3" into ("x", 3). A bare "x~" means one parent, as in git.
std::pair<std::string_view, int> split_ancestry(std::string_view ref) {
    auto pos = ref.rfind('~');
    if (pos == std::string_view::npos || pos == 0) return {ref, 0};
    std::string_view digits = ref.substr(pos + 1);
    if (digits.empty()) return {ref.substr(0, pos), 1};
    if (digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return {ref, 0};
    return {ref.substr(0, pos), std::stoi(std::string(digits))};
}

ResolvedRef resolve_base(const Repo &repo, const std::optional<WorktreeConfig> &wt, std::string_view ref,
                         HeadMeans head_means) {
    if (ref == "HEAD") {
        if (!wt) fail("E_NOT_WORKTREE", "HEAD needs a worktree", "open the repository from inside a worktree");
        const std::string &id = head_means == HeadMeans::Latest && !wt->latest_snapshot_id.empty()
                                    ? wt->latest_snapshot_id
                                    : wt->head_snapshot_id;
        if (id.empty())
            fail("E_NO_SNAPSHOTS", "worktree '" + wt->name + "' has no snapshots yet",
                 "take one with `jvs snapshot \"note\"`", {{"worktree", wt->name}});
        return {load_descriptor(repo, id), head_means == HeadMeans::Latest ? "latest" : "head"};
    }
    std::string r(ref);
    if (is_snapshot_id(r) && is_published(repo, r)) return {load_descriptor(repo, r), "id"};

    std::vector<Descriptor> all = list_snapshots(repo);  // newest first
    for (const auto &d : all)
        if (std::find(d.tags.begin(), d.tags.end(), r) != d.tags.end()) return {d, "tag"};

    using Pred = bool (*)(const Descriptor &, std::string_view);
    const std::pair<const char *, Pred> rules[] = {
        {"id_prefix", [](const Descriptor &d, std::string_view q) { return starts_with(d.snapshot_id, q); }},
        {"tag_prefix",
         [](const Descriptor &d, std::string_view q) {
             return std::any_of(d.tags.begin(), d.tags.end(), [&](const std::string &t) { return starts_with(t, q); });
         }},
        {"note_prefix", [](const Descriptor &d, std::string_view q) { return !d.note.empty() && starts_with(d.note, q); }},
    };
    for (const auto &[rule, pred] : rules) {
        std::vector<const Descriptor *> m;
        for (const auto &d : all)
            if (pred(d, ref)) m.push_back(&d);
        if (m.size() == 1) return {*m[0], rule};
        if (m.size() > 1) ambiguous(ref, rule, m);
    }
    not_found(ref, all);
}
}  // namespace

ResolvedRef resolve_ref(const Repo &repo, const std::optional<WorktreeConfig> &wt, std::string_view ref,
                        HeadMeans head_means) {
    if (ref.empty()) fail("E_OPTION_INVALID", "reference is empty", "pass a snapshot id, tag, prefix or HEAD");
    auto [base, back] = split_ancestry(ref);
    ResolvedRef r = resolve_base(repo, wt, base, head_means);
    for (int i = 0; i < back; i++) {
        if (r.descriptor.parent_id.empty())
            fail("E_REF_NOT_FOUND", "snapshot " + r.descriptor.snapshot_id + " has no parent (" + std::string(ref) + ")",
                 "use a smaller ~N", {{"ref", std::string(ref)}});
        r.descriptor = load_descriptor(repo, r.descriptor.parent_id);
    }
    return r;
}

}  // namespace jvs
