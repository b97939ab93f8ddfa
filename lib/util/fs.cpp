#include "util/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "util/beneath.hpp"
#include "util/error.hpp"

namespace jvs {

std::string path_join(std::string_view a, std::string_view b) {
    if (a.empty()) return std::string(b);
    if (b.empty()) return std::string(a);
    std::string out(a);
    if (out.back() != '/') out.push_back('/');
    out.append(b.front() == '/' ? b.substr(1) : b);
    return out;
}

std::string parent_path(std::string_view p) {
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    auto pos = p.rfind('/');
    if (pos == std::string_view::npos) return ".";
    if (pos == 0) return "/";
    return std::string(p.substr(0, pos));
}

std::string base_name(std::string_view p) {
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    auto pos = p.rfind('/');
    return std::string(pos == std::string_view::npos ? p : p.substr(pos + 1));
}

std::optional<struct stat> lstat_path(const std::string &path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return st;
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    fail_errno(errno, "lstat", path);
}

bool is_directory(const std::string &path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists_nofollow(const std::string &path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string read_file(const std::string &path) {
    auto r = read_file_if_exists(path);
    if (!r) fail_errno(ENOENT, "open", path);
    return *r;
}

std::optional<std::string> read_file_if_exists(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        fail_errno(errno, "open", path);
    }
    std::string out;
    // Sized once from fstat (a manifest of a million entries is read without doubling its buffer).
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        out.reserve(static_cast<size_t>(st.st_size) + 1);
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

namespace {
std::string first_line(const char *path) {
    std::string line;
    if (FILE *f = std::fopen(path, "re")) {
        char buf[128];
        if (std::fgets(buf, sizeof buf, f)) line = buf;
        std::fclose(f);
    }
    while (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
}
}  // namespace

const std::string &host_tag() {
    // The boot id (one per boot of one machine) and the pid namespace (containers of one machine
    // differ) decide where a pid names the same process and one clock stamps the files; the host
    // name joins them. A host name alone proves nothing: hosts and containers can share one.
    static const std::string tag = [] {
        char host[256] = {0};
        ::gethostname(host, sizeof host - 1);
        char ns[64] = {0};
        ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
        std::string id = first_line("/proc/sys/kernel/random/boot_id") + '\0' +
                         std::string(ns, n > 0 ? static_cast<size_t>(n) : 0) + '\0' + host;
        uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bits
        for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
        char buf[20];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
        return std::string(buf);
    }();
    return tag;
}

namespace {
constexpr std::string_view kTempPrefix = ".jvs-tmp-";

std::string temp_file_name() {
    static std::atomic<uint64_t> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}()};
    // ".jvs-tmp-" prefix: the name Go's doctor recognises as a leftover temp file. Then host and pid,
    // so doctor can prove a leftover's writer is gone: .jvs-tmp-h<host>-p<pid>-<random><counter>.
    return std::string(kTempPrefix) + "h" + host_tag() + "-p" + std::to_string(::getpid()) + "-" +
           std::to_string(rng() % 1000000000ULL) + std::to_string(counter.fetch_add(1));
}

FileFiller filler_of(std::string_view data) {
    return [data](int fd, const std::string &display) { write_all(fd, data.data(), data.size(), display); };
}
}  // namespace

std::string temp_name() { return temp_file_name(); }

std::vector<std::string> dir_entries(const std::string &dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return fd ? list_names(fd.get()) : std::vector<std::string>{};
}

std::optional<bool> temp_file_writer_alive(std::string_view name) {
    std::string want = std::string(kTempPrefix) + "h" + host_tag() + "-p";
    if (name.substr(0, want.size()) != want) return std::nullopt;  // another host's, or the Go tool's
    std::string_view rest = name.substr(want.size());
    size_t dash = rest.find('-');
    if (dash == std::string_view::npos || dash == 0) return std::nullopt;
    long pid = std::strtol(std::string(rest.substr(0, dash)).c_str(), nullptr, 10);
    if (pid <= 0) return std::nullopt;
    // EPERM: alive under another user. A recycled pid only errs on the side of keeping the file.
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

StagedWrite::StagedWrite(const std::string &path, std::string_view data, mode_t mode)
    : StagedWrite(path, filler_of(data), mode) {}

StagedWrite::StagedWrite(const std::string &path, const FileFiller &fill, mode_t mode) {
    UniqueFd dir(::open(parent_path(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) fail_errno(errno, "open", parent_path(path));
    stage(std::move(dir), base_name(path), fill, mode, path);
}

StagedWrite::StagedWrite(int dirfd, const std::string &name, std::string_view data, mode_t mode,
                         const std::string &display) {
    UniqueFd dir(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
    if (!dir) fail_errno(errno, "dup", parent_path(display));
    stage(std::move(dir), name, filler_of(data), mode, display);
}

void StagedWrite::stage(UniqueFd dir, const std::string &name, const FileFiller &fill, mode_t mode,
                        const std::string &display) {
    dir_ = std::move(dir);
    name_ = name;
    display_ = display;
    tmp_ = temp_file_name();
    const std::string tmp_display = path_join(parent_path(display), tmp_);
    UniqueFd fd(::openat(dir_.get(), tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) fail_errno(errno, "create", tmp_display);
    try {
        fill(fd.get(), tmp_display);
        if (::fchmod(fd.get(), mode) != 0) fail_errno(errno, "fchmod", tmp_display);
        if (::fsync(fd.get()) != 0) fail_errno(errno, "fsync", tmp_display);
    } catch (...) {
        ::unlinkat(dir_.get(), tmp_.c_str(), 0);
        throw;
    }
}

StagedWrite::~StagedWrite() {
    if (dir_ && !committed_) ::unlinkat(dir_.get(), tmp_.c_str(), 0);
}

void StagedWrite::commit() {
    if (::renameat(dir_.get(), tmp_.c_str(), dir_.get(), name_.c_str()) != 0) fail_errno(errno, "rename", display_);
    committed_ = true;
    if (::fsync(dir_.get()) != 0 && errno != EINVAL) fail_errno(errno, "fsync", parent_path(display_));
}

void atomic_write(const std::string &path, std::string_view data, mode_t mode) {
    StagedWrite(path, data, mode).commit();
}

void atomic_write(const std::string &path, mode_t mode, const FileFiller &fill) {
    StagedWrite(path, fill, mode).commit();
}

void atomic_write_at(int dirfd, const std::string &name, std::string_view data, mode_t mode,
                     const std::string &display) {
    StagedWrite(dirfd, name, data, mode, display).commit();
}

UniqueFd open_regular(const std::string &path, struct stat *st_out) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) fail_errno(errno, "open", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno(errno, "fstat", path);
    if (!S_ISREG(st.st_mode))
        fail("E_SPECIAL_FILE", "not a regular file: " + path, "move special files out of the tree", {{"path", path}});
    if (st_out) *st_out = st;
    return fd;
}

void fsync_path(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) fail_errno(errno, "open", path);
    if (::fsync(fd.get()) != 0 && errno != EINVAL) fail_errno(errno, "fsync", path);
}

void sync_filesystem(const std::string &dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) fail_errno(errno, "open", dir);
    if (::syncfs(fd.get()) != 0) fail_errno(errno, "syncfs", dir);
}

void mkdir_exact(const std::string &path, mode_t mode) {
    if (::mkdir(path.c_str(), 0700) != 0) {
        if (errno == EEXIST && is_directory(path)) return;
        fail_errno(errno, "mkdir", path);
    }
    if (::chmod(path.c_str(), mode) != 0) fail_errno(errno, "chmod", path);
}

void mkdirs(const std::string &path, mode_t mode) {
    if (path.empty() || is_directory(path)) return;
    std::string parent = parent_path(path);
    if (parent != path) mkdirs(parent, mode);
    mkdir_exact(path, mode);
}

void remove_tree(const std::string &path) {
    if (!exists_nofollow(path)) return;
    // The path's parents are the caller's; from the leaf down, the beneath layer's removal (never
    // follows a link, checks each directory is the one it listed).
    UniqueFd parent(::open(parent_path(path).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!parent) fail_errno(errno, "open", parent_path(path));
    entry_remove_tree(Entry{nullptr, parent.get(), base_name(path), path});
}

std::string absolute_path(const std::string &path) {
    std::string p = path;
    if (p.empty() || p[0] != '/') {
        char buf[PATH_MAX];
        if (!::getcwd(buf, sizeof buf)) fail_errno(errno, "getcwd", ".");
        p = path_join(buf, path);
    }
    // Lexical clean: drop "." and resolve ".." components.
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        std::string c = p.substr(i, j - i);
        if (c == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!c.empty() && c != ".") {
            parts.push_back(c);
        }
        i = j + 1;
    }
    std::string out;
    for (const auto &c : parts) out += "/" + c;
    return out.empty() ? "/" : out;
}

std::string real_path(const std::string &path) {
    char *r = ::realpath(path.c_str(), nullptr);
    if (!r) fail_errno(errno, "realpath", path);
    std::string out(r);
    std::free(r);
    return out;
}

}  // namespace jvs
