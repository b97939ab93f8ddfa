// Tree scanning: lstat every entry (never following links), pre-order with siblings sorted bytewise.
#pragma once
#include <sys/stat.h>

#include <string>
#include <vector>

namespace jvs {

class OpContext;

struct ScanEntry {
    char type = 'f';          // 'd' | 'f' | 'l'
    std::string rel;          // '/'-separated, relative to the root
    struct stat st {};
    std::string link_target;  // symlinks only
};

// Scans `root`, or only `only_paths` (cleaned relative paths; their ancestor directories are included
// so the result is a self-contained tree). A top-level ".READY" file (a control file: our marker in
// snapshots, a leftover of the Go tool in worktrees) is skipped; a directory of that name is not. FIFOs, sockets and devices throw
// E_SPECIAL_FILE naming them, before anything is written; a missing only_path throws E_PATH_NOT_FOUND.
std::vector<ScanEntry> scan_tree(const std::string &root, const std::vector<std::string> &only_paths,
                                 OpContext *ctx);

// Component-wise path order: the order scan_tree returns (parents before children).
bool path_less(const std::string &a, const std::string &b);

}  // namespace jvs
