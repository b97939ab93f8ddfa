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
constexpr long kXfsMagic = 0x58465342;
// Filesystems known to have no FICLONE: detection needs no probe there.
constexpr long kNoCloneMagics[] = {
    0xEF53,      // ext2/3/4
    0x01021994,  // tmpfs
    0x65735546,  // FUSE (JuiceFS is recognised by the mount table first)
    0x858458f6,  // ramfs
    0x4d44,      // vfat
};

// XFS_IOC_FSGEOMETRY_V1 from the kernel's XFS UAPI (xfs_fs.h, not shipped by linux-libc-dev; the
// layout is frozen ABI): `flags` carries XFS_FSOP_GEOM_FLAGS_REFLINK on reflink=1 filesystems.
struct XfsGeomV1 {
    uint32_t blocksize, rtextsize, agblocks, agcount, logblocks, sectsize, inodesize, imaxpct;
    uint64_t datablocks, rtblocks, rtextents, logstart;
    unsigned char uuid[16];
    uint32_t sunit, swidth;
    int32_t version;
    uint32_t flags, logsectsize, rtsectsize, dirblocksize;
};
constexpr unsigned long kXfsIocFsGeometryV1 = _IOR('X', 100, XfsGeomV1);
constexpr uint32_t kXfsGeomFlagReflink = 1u << 20;

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

// What an earlier detection found on this filesystem; re-detected when the repository's device or
// filesystem type changed (it was moved or copied elsewhere), or when the file is deleted.
std::optional<bool> read_cached(const Repo &repo, const struct stat &st, const struct statfs &fs) {
    auto raw = read_file_if_exists(cache_path(repo));
    if (!raw) return std::nullopt;
    auto j = nlohmann::json::parse(*raw, nullptr, false);
    if (!j.is_object() || j.value("device", uint64_t{1} << 63) != static_cast<uint64_t>(st.st_dev) ||
        j.value("fs_magic", int64_t{-1}) != static_cast<int64_t>(fs.f_type) || !j.contains("reflink") ||
        !j["reflink"].is_boolean())
        return std::nullopt;
    return j["reflink"].get<bool>();
}

void write_cache(const Repo &repo, bool reflink, const struct stat &st, const struct statfs &fs, const char *how) {
    nlohmann::json j = {{"reflink", reflink},
                        {"engine", engine_name(reflink ? EngineKind::Reflink : EngineKind::Copy)},
                        {"device", static_cast<uint64_t>(st.st_dev)},
                        {"fs_magic", static_cast<int64_t>(fs.f_type)},
                        {"method", how},
                        {"checked_at", format_rfc3339nano(now_utc())}};
    try {
        atomic_write(cache_path(repo), j.dump() + "\n", 0644);
    } catch (const Error &) {
        // Only a cache: detection simply runs again next time.
    }
}

bool ficlone_works(int src, int dst) { return ::write(src, "jvs", 3) == 3 && ::ioctl(dst, FICLONE, src) == 0; }

// Two unnamed inodes (O_TMPFILE) in `dir`: no directory entry is made, nothing remains after close.
// nullopt when the filesystem has no O_TMPFILE.
std::optional<bool> probe_tmpfile(const std::string &dir) {
    UniqueFd a(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!a) return std::nullopt;
    UniqueFd b(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!b) return std::nullopt;
    return ficlone_works(a.get(), b.get());
}

// The last resort, for writers only: two named files in .jvs/cache, removed at once.
bool probe_named(const Repo &repo) {
    repo.ensure_private_dirs();
    std::string a = path_join(repo.cache_dir(), ".reflink-probe-" + std::to_string(::getpid()));
    std::string b = a + ".clone";
    bool ok = false;
    {
        UniqueFd src(::open(a.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        UniqueFd dst(::open(b.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (src && dst) ok = ficlone_works(src.get(), dst.get());
    }
    ::unlink(a.c_str());
    ::unlink(b.c_str());
    return ok;
}

// Whether FICLONE works where the repository lives, and how that was learnt (for the cache).
std::optional<bool> detect_reflink(const Repo &repo, const struct statfs &fs, bool may_probe, const char **how) {
    long magic = static_cast<long>(fs.f_type);
    *how = "statfs";
    if (magic == kBtrfsMagic) return true;  // every btrfs can clone
    for (long m : kNoCloneMagics)
        if (magic == m) return false;
    if (magic == kXfsMagic) {
        UniqueFd fd(::open(repo.jvs_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        XfsGeomV1 g{};
        *how = "xfs_geometry";
        if (fd && ::ioctl(fd.get(), kXfsIocFsGeometryV1, &g) == 0) return (g.flags & kXfsGeomFlagReflink) != 0;
    }
    *how = "tmpfile_probe";
    if (auto r = probe_tmpfile(repo.jvs_dir())) return r;
    if (!may_probe) return std::nullopt;
    *how = "named_probe";
    return probe_named(repo);
}

// Auto-detection of reflink support (nullopt: unknown without writing a probe file).
std::optional<bool> reflink_supported(const Repo &repo, bool may_probe) {
    struct stat st {};
    struct statfs fs {};
    if (::stat(repo.jvs_dir().c_str(), &st) != 0 || ::statfs(repo.jvs_dir().c_str(), &fs) != 0) return false;
    if (auto cached = read_cached(repo, st, fs)) return cached;
    const char *how = "";
    auto r = detect_reflink(repo, fs, may_probe, &how);
    if (r && may_probe) write_cache(repo, *r, st, fs, how);
    return r;
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
    EngineChoice c;
    if (const char *env = std::getenv("JVS_ENGINE"); env && parse_engine(env, "JVS_ENGINE")) {
        c = {*parse_engine(env, "JVS_ENGINE"), "env"};
    } else if (auto k = parse_engine(load_repo_config(repo).default_engine, "config.yaml default_engine")) {
        c = {*k, "config"};
    } else if (on_juicefs_mount(repo.root())) {
        if (!juicefs_binary().empty()) return {EngineKind::Juicefs, "detected"};
        return {EngineKind::Copy, "detected", false,
                "the repository is on JuiceFS but `juicefs` is not on PATH: files are copied, not cloned"};
    } else {
        auto r = reflink_supported(repo, may_probe);
        return {r.value_or(false) ? EngineKind::Reflink : EngineKind::Copy, r ? "detected" : "default"};
    }
    // A forced copy (or the copy a forced juicefs falls back to) where the filesystem could clone
    // must move the bytes itself: copy_file_range would share extents there. Through FUSE it
    // shares nothing, so JuiceFS keeps the kernel path.
    if (c.kind != EngineKind::Reflink && !on_juicefs_mount(repo.root()))
        c.copy_bytes = reflink_supported(repo, may_probe).value_or(true);
    return c;
}

CopyMethod copy_method(const EngineChoice &c) {
    if (c.kind == EngineKind::Reflink) return CopyMethod::Reflink;
    return c.copy_bytes ? CopyMethod::Bytes : CopyMethod::Kernel;
}

}  // namespace jvs
