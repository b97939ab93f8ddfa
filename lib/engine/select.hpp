// Which engine materialises trees in a repository: JuiceFS clone, reflink (FICLONE) or plain copy.
// Chosen once per repository and cached; overridable by JVS_ENGINE and config.yaml default_engine.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "engine/engine.hpp"

namespace jvs {

class Repo;

enum class EngineKind { Copy, Reflink, Juicefs };

// The names the Go tool writes into descriptors: "copy", "reflink-copy", "juicefs-clone".
const char *engine_name(EngineKind k);
// Accepts the Go tool's JVS_ENGINE values (juicefs, reflink, copy) and the long names;
// nullopt for "auto" or "". Throws E_OPTION_INVALID for anything else.
std::optional<EngineKind> parse_engine(std::string_view s, const char *where);

struct EngineChoice {
    EngineKind kind = EngineKind::Copy;
    std::string source;  // env | config | detected | default
    // Copy forced (env/config) on a filesystem that can clone: copy_file_range would silently share
    // extents there, so the copy engine must move the bytes itself to be the copy it says it is.
    bool copy_bytes = false;
    // Why detection settled for less than the filesystem offers (a JuiceFS mount without `juicefs`
    // on PATH); every result that materialises files reports it as a clone_fallback degradation.
    std::string shortfall;
};

// Detection never leaves anything in the repository when may_probe is false (read-only callers
// such as info): btrfs by statfs magic, XFS by its reflink geometry flag, other filesystems by a
// FICLONE between two O_TMPFILE inodes (no directory entry is ever made). Only a filesystem that
// has no O_TMPFILE falls back, for writers, to a named probe file in .jvs/cache. Writers cache the
// result in .jvs/cache/engine.json, keyed by device and filesystem type.
EngineChoice choose_engine(const Repo &repo, bool may_probe);

// The per-file method an engine choice implies (JuiceFS falls back to it when the clone fails).
CopyMethod copy_method(const EngineChoice &c);

// The juicefs executable on PATH (empty if none).
std::string juicefs_binary();
// True when `path` lies on a JuiceFS FUSE mount (mount table, path-boundary aware, \040 decoded).
bool on_juicefs_mount(const std::string &path);

}  // namespace jvs
