#include "engine/juicefs.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "engine/select.hpp"
#include "util/beneath.hpp"
#include "util/fs.hpp"

extern char **environ;

namespace jvs {

bool juicefs_clone(const Dir &src_parent, const std::string &src_name, const std::string &dst, std::string *why) {
    std::string bin = juicefs_binary();
    if (bin.empty()) {
        *why = "juicefs is not on PATH";
        return false;
    }
    bin = absolute_path(bin);  // the child runs in another directory
    const std::string dst_abs = absolute_path(dst);
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        *why = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    // The child's output is captured, never printed: a library does not write to the host's stderr.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addfchdir_np(&fa, src_parent.fd());
    std::vector<std::string> args = {bin, "clone", "-p", src_name, dst_abs};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(pipefd[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && out.size() < 8192) out.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
    if (rc != 0) {
        *why = std::string("spawn juicefs: ") + std::strerror(rc);
        return false;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    *why = "juicefs clone failed: " + out.substr(out.size() > 300 ? out.size() - 300 : 0);
    return false;
}

}  // namespace jvs
