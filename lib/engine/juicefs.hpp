// `juicefs clone`: a metadata-only copy of a whole tree on a JuiceFS mount.
#pragma once
#include <string>

namespace jvs {

class Dir;

// Runs `juicefs clone -p <src_name> <dst>` with its working directory set to `src_parent` (an open
// directory: fchdir in the child), so the source is looked up by one name in a directory jvs holds
// and no path component above it can be swapped for a symlink meanwhile. juicefs looks the name up
// with lstat and clones by inode inside the volume (links inside are cloned as links, never
// followed). dst must not exist; -p keeps uid, gid and mode. Returns false with the tool's own words
// in *why when it fails; the caller falls back and reports it.
bool juicefs_clone(const Dir &src_parent, const std::string &src_name, const std::string &dst, std::string *why);

}  // namespace jvs
