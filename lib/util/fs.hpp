// Small POSIX helpers shared by every layer: RAII fds, whole-file reads, atomic writes, fsync.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jvs {

inline constexpr size_t kIoBufferSize = 1 << 20;  // 1 MiB sequential reads

class UniqueFd {
   public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd &&o) noexcept : fd_(o.release()) {}
    UniqueFd &operator=(UniqueFd &&o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.release();
        }
        return *this;
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

   private:
    int fd_ = -1;
};

std::string path_join(std::string_view a, std::string_view b);
std::string parent_path(std::string_view p);
std::string base_name(std::string_view p);

std::optional<struct stat> lstat_path(const std::string &path);  // nullopt if absent (ENOENT/ENOTDIR)
bool is_directory(const std::string &path);
bool exists_nofollow(const std::string &path);
// The names in a directory (no "." and ".."), sorted bytewise; empty when it cannot be read.
std::vector<std::string> dir_entries(const std::string &dir);

// Opens a regular file for reading without following a final symlink; O_NONBLOCK, so a file swapped
// for a FIFO after a scan cannot hang the open. `st_out` receives its fstat. Throws E_IO, or
// E_SPECIAL_FILE for anything but a regular file.
UniqueFd open_regular(const std::string &path, struct stat *st_out = nullptr);

std::string read_file(const std::string &path);                  // throws E_IO
std::optional<std::string> read_file_if_exists(const std::string &path);

// Go's AtomicWrite: temp file in the same directory, write, fchmod(mode), fsync, rename, fsync dir.
void atomic_write(const std::string &path, std::string_view data, mode_t mode);
// The same for content too large to hold whole: `fill` writes it to the temp file's fd (util/beneath
// write_all), `display` naming that file in errors; it is then chmodded, fsynced and renamed as above.
using FileFiller = std::function<void(int fd, const std::string &display)>;
void atomic_write(const std::string &path, mode_t mode, const FileFiller &fill);
// The same in the directory `dirfd` (the temp file, the rename and the fsync all relative to it);
// `display` names the target in errors.
void atomic_write_at(int dirfd, const std::string &name, std::string_view data, mode_t mode,
                     const std::string &display);
// atomic_write in two steps, for a caller that publishes something and must know beforehand that
// every step that can run out of space or permission has succeeded: the constructor writes, chmods
// and fsyncs the temp file (throws E_IO/E_NO_SPACE, leaving nothing); commit() renames it into place
// and fsyncs the directory (throws after the rename only if that fsync fails: committed() says which).
// An uncommitted temp file is removed when the object goes.
class StagedWrite {
   public:
    StagedWrite(const std::string &path, std::string_view data, mode_t mode);
    StagedWrite(const std::string &path, const FileFiller &fill, mode_t mode);  // content written by `fill`
    StagedWrite(int dirfd, const std::string &name, std::string_view data, mode_t mode, const std::string &display);
    ~StagedWrite();
    StagedWrite(const StagedWrite &) = delete;
    StagedWrite &operator=(const StagedWrite &) = delete;
    void commit();
    bool committed() const { return committed_; }

   private:
    void stage(UniqueFd dir, const std::string &name, const FileFiller &fill, mode_t mode, const std::string &display);
    UniqueFd dir_;
    std::string name_, tmp_, display_;
    bool committed_ = false;
};
// For a temp file name atomic_write made on this host: whether its writer process is still alive.
// nullopt when the name is not ours (the Go tool's, or another host's): nothing can be proven then.
std::optional<bool> temp_file_writer_alive(std::string_view name);
// A fresh temp name of that form (.jvs-tmp-h<host>-p<pid>-...): doctor removes what it names once
// its writer is gone (a file or a whole directory).
std::string temp_name();
// 16 hex digits naming this host as far as pids and file times go: a hash of the boot id, the pid
// namespace and the host name. Equal tags mean kill(pid, 0) speaks of the same processes and the
// same clock stamps files; several hosts (or containers) writing one repository get different tags.
const std::string &host_tag();

void fsync_path(const std::string &path);  // fsync a file or directory by path
// syncfs(2): writes back and waits for all dirty data and metadata of the filesystem holding `dir`;
// one barrier instead of an fsync per file before something that refers to those files is published.
void sync_filesystem(const std::string &dir);
void mkdir_exact(const std::string &path, mode_t mode);  // mkdir + chmod (no umask); EEXIST ok
void mkdirs(const std::string &path, mode_t mode);        // like mkdir -p, modes exact for created dirs
void remove_tree(const std::string &path);                // rm -rf; absent is fine
std::string absolute_path(const std::string &path);       // lexical absolute path, no symlink resolution
std::string real_path(const std::string &path);           // realpath(3); throws E_IO

}  // namespace jvs
