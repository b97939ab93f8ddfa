#include "repo/repo.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include <nlohmann/json.hpp>

#include "format/ids.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {
std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) i++;
    return s.substr(i);
}

int read_format_version(const std::string &jvs) {
    auto raw = read_file_if_exists(path_join(jvs, "format_version"));
    const char *hint = "restore .jvs/format_version (it holds \"1\") or run jvs doctor";
    if (!raw) fail("E_CONFIG_CORRUPT", "missing .jvs/format_version", hint, {{"path", path_join(jvs, "format_version")}});
    std::string v = trim(*raw);
    if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit) || std::stoi(v) < 1)
        fail("E_CONFIG_CORRUPT", "unreadable .jvs/format_version: '" + v + "'", hint);
    int n = std::stoi(v);
    if (n > kFormatVersion)
        fail("E_FORMAT_UNSUPPORTED",
             "repository format_version " + std::to_string(n) + " is newer than this jvs supports (1)",
             "upgrade jvs to a release that reads format " + std::to_string(n),
             {{"format_version", n}, {"supported", kFormatVersion}});
    return n;
}

// .jvs/layout.json, ours (the Go tool ignores it): present only in an adopted repository.
constexpr const char *kLayoutFile = "layout.json";
constexpr const char *kPayloadsDir = "worktree-payloads";  // under .jvs, adopted repositories only
const std::string kAdoptedLayout = std::string("{\"main\":\".\",\"worktrees\":\".jvs/") + kPayloadsDir + "\"}\n";

bool read_adopted(const std::string &jvs) {
    const std::string path = path_join(jvs, kLayoutFile);
    auto raw = read_file_if_exists(path);
    if (!raw) return false;
    nlohmann::json j = nlohmann::json::parse(*raw, nullptr, false);
    if (!j.is_object() || j.value("main", "") != "." ||
        j.value("worktrees", "") != std::string(".jvs/") + kPayloadsDir)
        fail("E_CONFIG_CORRUPT", "unreadable .jvs/layout.json", "restore it (an adopted repository's holds " +
             kAdoptedLayout.substr(0, kAdoptedLayout.size() - 1) + ") or run jvs doctor", {{"path", path}});
    return true;
}

// The worktree a path relative to the repository root is in (rel "" is the root itself).
std::optional<std::string> worktree_from_rel(const std::string &rel, bool adopted) {
    auto first_end = rel.find('/');
    std::string first = rel.substr(0, first_end);
    std::string rest = first_end == std::string::npos ? "" : rel.substr(first_end + 1);
    std::string second = rest.substr(0, rest.find('/'));
    if (adopted) {
        if (first != ".jvs") return "main";
        std::string name = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
        name = name.substr(0, name.find('/'));
        if (second == kPayloadsDir && !name.empty()) return name;
        return std::nullopt;
    }
    if (first == "main") return "main";
    if (first == "worktrees" && !second.empty()) return second;
    return std::nullopt;
}

// E_REPO_EXISTS when `abs` or a directory above it holds `.jvs` (checked before anything is
// written): a repository inside another's worktree would be stored by its snapshots.
void refuse_nested(const std::string &abs) {
    std::string existing = abs;
    while (!exists_nofollow(existing) && existing != "/") existing = parent_path(existing);
    std::string dir = real_path(existing);
    for (;;) {
        if (is_directory(path_join(dir, ".jvs"))) {
            bool here = dir == (exists_nofollow(abs) ? real_path(abs) : std::string());
            if (here)
                fail("E_REPO_EXISTS", "a jvs repository already exists at " + dir,
                     "open it instead; nothing was changed", {{"path", dir}});
            fail("E_REPO_EXISTS", abs + " is inside the jvs repository at " + dir,
                 "create the repository outside it, or use a worktree of it (`jvs worktree fork`); nothing was changed",
                 {{"path", abs}, {"repo_root", dir}, {"inside", true}});
        }
        if (dir == "/") return;
        dir = parent_path(dir);
    }
}
// The first repository below `root` (a directory `.jvs` holding `format_version`), as a path
// relative to it: adopting `root` would store that repository's control data in every snapshot.
// Directories are walked beneath `root`, never through a link; unreadable ones are skipped.
std::optional<std::string> repo_below(const std::string &root) {
    const Dir top = Dir::open_root(root);
    std::vector<std::string> todo = {""};  // names, not open directories: a wide tree needs no fd each
    while (!todo.empty()) {
        const std::string rel = std::move(todo.back());
        todo.pop_back();
        std::vector<std::string> names;
        std::optional<Dir> sub;
        try {
            if (!rel.empty() && !(sub = top.dir_if_exists(rel))) continue;
            names = (rel.empty() ? top : *sub).list();
        } catch (const Error &) {
            continue;  // unreadable, or changed meanwhile
        }
        const Dir &dir = rel.empty() ? top : *sub;
        for (const auto &n : names) {
            struct stat st {};
            if (::fstatat(dir.fd(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
            if (n == ".jvs" && !rel.empty() && dir.lstat(".jvs/format_version")) return rel;
            todo.push_back(rel.empty() ? n : rel + "/" + n);
        }
    }
    return std::nullopt;
}
}  // namespace

bool Repo::is_control_rel(const std::string &rel) const {
    return adopted_ && in_control_dir(rel);
}

Repo Repo::discover(const std::string &start) {
    if (!exists_nofollow(start) && !is_directory(start))
        fail("E_NOT_REPO", "path does not exist: " + start, "pass a path inside a jvs repository",
             {{"path", start}});
    std::string abs = real_path(start);
    std::string dir = is_directory(abs) ? abs : parent_path(abs);
    for (;;) {
        if (is_directory(path_join(dir, ".jvs"))) break;
        if (dir == "/")
            fail("E_NOT_REPO", "not a jvs repository (or any parent): " + abs,
                 "run `jvs init` to version this folder (or `jvs init <path>`), or cd into an existing repository",
                 {{"path", abs}});
        dir = parent_path(dir);
    }
    Repo r;
    r.root_ = dir;
    r.format_version_ = read_format_version(r.jvs_dir());
    auto id = read_file_if_exists(path_join(r.jvs_dir(), "repo_id"));
    if (!id || trim(*id).empty())
        fail("E_CONFIG_CORRUPT", "missing or empty .jvs/repo_id", "run jvs doctor to inspect the repository");
    r.repo_id_ = trim(*id);
    r.adopted_ = read_adopted(r.jvs_dir());
    if (abs == dir)
        r.discovered_worktree_ = worktree_from_rel("", r.adopted_);
    else if (abs.size() > dir.size() + 1 && abs.compare(0, dir.size(), dir) == 0)
        r.discovered_worktree_ = worktree_from_rel(abs.substr(dir.size() + (dir == "/" ? 0 : 1)), r.adopted_);
    return r;
}

Repo Repo::create(const std::string &path, InitLayout layout) {
    std::string abs = absolute_path(path);
    refuse_nested(abs);
    if (exists_nofollow(abs) && !is_directory(abs))
        fail("E_PATH_CONFLICT", abs + " exists and is not a directory", "pass a directory (or a path to create)",
             {{"path", abs}});
    const bool adopt = layout == InitLayout::Adopt ||
                       (layout == InitLayout::Auto && is_directory(abs) && !dir_entries(abs).empty());
    if (adopt && is_directory(abs))
        if (auto below = repo_below(abs))
            fail("E_REPO_EXISTS", abs + " holds the jvs repository " + path_join(abs, *below),
                 "adopt a folder beside it, or move that repository out first; nothing was changed",
                 {{"path", abs}, {"nested_repo", path_join(abs, *below)}});
    mkdirs(abs, 0755);
    Repo r;
    r.root_ = real_path(abs);
    r.repo_id_ = new_uuid_v4();
    r.adopted_ = adopt;
    std::string jvs = r.jvs_dir();
    // Build .jvs under a temporary name and rename it into place last, so a crash or a concurrent
    // init never leaves a half-made repository that later commands would accept.
    std::string staging = path_join(r.root_, ".jvs-init-" + r.repo_id_.substr(0, 8));
    mkdir_exact(staging, 0755);
    try {
        for (const char *d : {"worktrees", "worktrees/main", "snapshots", "descriptors", "intents", "audit", "gc"})
            mkdir_exact(path_join(staging, d), 0755);
        atomic_write(path_join(staging, "format_version"), "1\n", 0600);
        atomic_write(path_join(staging, "repo_id"), r.repo_id_ + "\n", 0600);
        WorktreeConfig main_cfg;
        main_cfg.name = "main";
        main_cfg.created_at = now_utc();
        atomic_write(path_join(staging, "worktrees/main/config.json"), serialize_worktree_config(main_cfg), 0644);
        if (adopt) {  // the directory's own files are the main worktree: nothing of theirs moves
            mkdir_exact(path_join(staging, kPayloadsDir), 0755);
            atomic_write(path_join(staging, kLayoutFile), kAdoptedLayout, 0644);
        } else {
            mkdirs(path_join(r.root_, "main"), 0755);
            mkdirs(path_join(r.root_, "worktrees"), 0755);
        }
        if (::rename(staging.c_str(), jvs.c_str()) != 0) {
            int err = errno;
            if (err == EEXIST || err == ENOTEMPTY)
                fail("E_REPO_EXISTS", "a jvs repository already exists at " + r.root_, "open it instead");
            fail_errno(err, "rename", jvs);
        }
    } catch (...) {
        remove_tree(staging);
        throw;
    }
    fsync_path(r.root_);
    r.ensure_private_dirs();
    return r;
}

std::string Repo::jvs_dir() const { return path_join(root_, ".jvs"); }
std::string Repo::snapshots_dir() const { return path_join(jvs_dir(), "snapshots"); }
std::string Repo::descriptors_dir() const { return path_join(jvs_dir(), "descriptors"); }
std::string Repo::intents_dir() const { return path_join(jvs_dir(), "intents"); }
std::string Repo::audit_path() const { return path_join(jvs_dir(), "audit/audit.jsonl"); }
std::string Repo::audit_anchor_path() const { return path_join(jvs_dir(), "audit_anchor.json"); }
std::string Repo::manifests_dir() const { return path_join(jvs_dir(), "manifests"); }
std::string Repo::cache_dir() const { return path_join(jvs_dir(), "cache"); }
std::string Repo::locks_dir() const { return path_join(jvs_dir(), "locks"); }
std::string Repo::snapshot_dir(const std::string &id) const { return path_join(snapshots_dir(), id); }
std::string Repo::descriptor_path(const std::string &id) const { return path_join(descriptors_dir(), id + ".json"); }
std::string Repo::manifest_path(const std::string &id) const { return path_join(manifests_dir(), id); }
std::string Repo::intent_path(const std::string &id) const { return path_join(intents_dir(), id + ".json"); }
std::string Repo::stat_cache_path(const std::string &wt) const {
    return path_join(cache_dir(), worktree_token(wt) + ".stat");
}
std::string Repo::worktree_lock_path(const std::string &wt) const {
    return path_join(locks_dir(), "wt-" + worktree_token(wt) + ".lock");
}
std::string Repo::fork_staging_path(const std::string &wt) const {
    return path_join(worktrees_dir(), worktree_token(wt) + ".jvs-clone-tmp");
}
std::string Repo::worktrees_dir() const {
    return adopted_ ? path_join(jvs_dir(), kPayloadsDir) : path_join(root_, "worktrees");
}

std::string worktree_token(const std::string &name) {
    constexpr size_t kMax = 200, kKeep = 183;
    if (name.size() <= kMax) return name;
    return name.substr(0, kKeep) + "~" + sha256_hex(name).substr(0, 16);
}

std::string Repo::payload_path(const std::string &wt) const {
    if (wt == "main") return adopted_ ? root_ : path_join(root_, "main");
    return path_join(worktrees_dir(), wt);
}

std::string Repo::worktree_config_path(const std::string &wt) const {
    return path_join(jvs_dir(), "worktrees/" + wt + "/config.json");
}

bool Repo::worktree_exists(const std::string &wt) const { return exists_nofollow(worktree_config_path(wt)); }

WorktreeConfig Repo::load_worktree(const std::string &wt) const {
    auto raw = read_file_if_exists(worktree_config_path(wt));
    if (!raw)
        fail("E_WORKTREE_NOT_FOUND", "worktree '" + wt + "' not found", "list worktrees with `jvs worktree list`",
             {{"worktree", wt}});
    WorktreeConfig c = parse_worktree_config(*raw);
    if (c.name.empty()) c.name = wt;
    // Every operation builds the payload path from `name` and reads and writes the snapshots the ids
    // name: each must be what it claims before anyone uses it.
    check_stored_name(c.name, "worktree config name");
    if (c.name != wt)
        fail("E_CONFIG_CORRUPT", "worktree config of '" + wt + "' names another worktree ('" + c.name + "')",
             "fix `name` in .jvs/worktrees/" + wt + "/config.json, or run jvs doctor", {{"path", worktree_config_path(wt)}});
    check_stored_snapshot_id(c.base_snapshot_id, "worktree config base_snapshot_id", true);
    check_stored_snapshot_id(c.head_snapshot_id, "worktree config head_snapshot_id", true);
    check_stored_snapshot_id(c.latest_snapshot_id, "worktree config latest_snapshot_id", true);
    return c;
}

void Repo::save_worktree(const WorktreeConfig &cfg) const {
    mkdirs(parent_path(worktree_config_path(cfg.name)), 0755);
    atomic_write(worktree_config_path(cfg.name), serialize_worktree_config(cfg), 0644);
}

std::vector<std::string> Repo::worktree_names() const {
    std::vector<std::string> out;
    std::string dir = path_join(jvs_dir(), "worktrees");
    DIR *d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        if (exists_nofollow(path_join(path_join(dir, n), "config.json"))) out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

void Repo::ensure_private_dirs() const {
    for (const auto &d : {manifests_dir(), cache_dir(), locks_dir()})
        if (!is_directory(d)) mkdir_exact(d, 0755);
}

}  // namespace jvs
