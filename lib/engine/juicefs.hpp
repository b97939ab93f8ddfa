// `juicefs clone`: a metadata-only copy of a whole tree on a JuiceFS mount.
#pragma once
#include <string>

namespace jvs {

// Runs `juicefs clone -p <src> <dst>` (dst must not exist; -p keeps uid, gid and mode). Returns false
// with the tool's own words in *why when it fails; the caller falls back and reports it.
bool juicefs_clone(const std::string &src, const std::string &dst, std::string *why);

}  // namespace jvs
