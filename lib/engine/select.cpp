#include "engine/select.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "format/gotime.hpp"
#include "repo/config.hpp"
#include "repo/repo.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace jvs {

namespace {
constexpr long kBtrfsMagic = 0x9123683E;

// /proc/mounts escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount_field(const std::string &s) {
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(s[i + 1]) &&
            std::isdigit(s[i + 2]) && std::isdigit(s[i + 3])) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8)));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

bool path_within(const std::string &path, const std::string &mount) {
    if (mount == "/") return true;
    return path == mount || (path.size() > mount.size() && path.compare(0, mount.size(), mount) == 0 &&
                             path[mount.size()] == '/');
}

std::string cache_path(const Repo &repo) { return path_join(repo.cache_dir(), "engine.json"); }

std::optional<EngineKind> read_cached(const Repo &repo, dev_t dev) {
    auto raw = read_file_if_exists(cache_path(repo));
    if (!raw) return std::nullopt;
    auto j = nlohmann::json::parse(*raw, nullptr, false);
    if (!j.is_object() || !j.contains("engine") || !j.contains("device") || j["device"] != static_cast<uint64_t>(dev))
        return std::nullopt;  // the repository moved to another filesystem: detect again
    try {
        return parse_engine(j["engine"].get<std::string>(), "engine cache");
    } catch (...) {
        return std::nullopt;
    }
}

// Clones a small file inside .jvs/cache once: the only way to know FICLONE works here.
bool probe_reflink(const Repo &repo) {
    repo.ensure_private_dirs();
    std::string a = path_join(repo.cache_dir(), ".reflink-probe-" + std::to_string(::getpid()));
    std::string b = a + ".clone";
    bool ok = false;
    {
        UniqueFd src(::open(a.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        UniqueFd dst(::open(b.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (src && dst && ::write(src.get(), "jvs", 3) == 3) ok = ::ioctl(dst.get(), FICLONE, src.get()) == 0;
    }
    ::unlink(a.c_str());
    ::unlink(b.c_str());
    return ok;
}

void write_cache(const Repo &repo, EngineKind k, dev_t dev) {
    nlohmann::json j = {{"engine", engine_name(k)}, {"device", static_cast<uint64_t>(dev)},
                        {"checked_at", format_rfc3339nano(now_utc())}};
    try {
        atomic_write(cache_path(repo), j.dump() + "\n", 0644);
    } catch (const Error &) {
        // Only a cache: detection simply runs again next time.
    }
}
}  // namespace

const char *engine_name(EngineKind k) {
    switch (k) {
        case EngineKind::Reflink: return "reflink-copy";
        case EngineKind::Juicefs: return "juicefs-clone";
        default: return "copy";
    }
}

std::optional<EngineKind> parse_engine(std::string_view s, const char *where) {
    if (s.empty() || s == "auto") return std::nullopt;
    if (s == "copy") return EngineKind::Copy;
    if (s == "reflink" || s == "reflink-copy") return EngineKind::Reflink;
    if (s == "juicefs" || s == "juicefs-clone") return EngineKind::Juicefs;
    fail("E_OPTION_INVALID", std::string(where) + ": unknown engine '" + std::string(s) + "'",
         "use one of: auto, copy, reflink (reflink-copy), juicefs (juicefs-clone)", {{"value", std::string(s)}});
}

std::string juicefs_binary() {
    const char *path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        std::string p = path_join(dir.empty() ? "." : dir, "juicefs");
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    return {};
}

bool on_juicefs_mount(const std::string &path) {
    std::ifstream in("/proc/self/mounts");
    std::string line, best_fstype;
    size_t best_len = 0;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string dev, mnt, fstype;
        if (!(ls >> dev >> mnt >> fstype)) continue;
        mnt = unescape_mount_field(mnt);
        if (path_within(path, mnt) && mnt.size() >= best_len) {  // the innermost mount wins
            best_len = mnt.size();
            best_fstype = fstype;
        }
    }
    return best_fstype.find("juicefs") != std::string::npos;
}

EngineChoice choose_engine(const Repo &repo, bool may_probe) {
    if (const char *env = std::getenv("JVS_ENGINE"))
        if (auto k = parse_engine(env, "JVS_ENGINE")) return {*k, "env", false};
    if (auto k = parse_engine(load_repo_config(repo).default_engine, "config.yaml default_engine"))
        return {*k, "config", false};
    if (on_juicefs_mount(repo.root()) && !juicefs_binary().empty()) return {EngineKind::Juicefs, "detected", false};
    struct stat st {};
    if (::stat(repo.jvs_dir().c_str(), &st) != 0) return {EngineKind::Copy, "default", false};
    if (auto cached = read_cached(repo, st.st_dev)) return {*cached, "detected", true};
    struct statfs fs {};
    bool btrfs = ::statfs(repo.jvs_dir().c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kBtrfsMagic;
    if (!may_probe) return {btrfs ? EngineKind::Reflink : EngineKind::Copy, btrfs ? "detected" : "default", false};
    EngineKind k = probe_reflink(repo) ? EngineKind::Reflink : EngineKind::Copy;
    write_cache(repo, k, st.st_dev);
    return {k, "detected", true};
}

}  // namespace jvs
