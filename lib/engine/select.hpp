// Which engine materialises trees in a repository: JuiceFS clone, reflink (FICLONE) or plain copy.
// Chosen once per repository and cached; overridable by JVS_ENGINE and config.yaml default_engine.
#pragma once
#include <optional>
#include <string>
#include <string_view>

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
    bool probed = false; // whether a write-probe established reflink support
};

// Read-only callers (info) pass may_probe = false: nothing is written, and an unprobed filesystem
// reports what can be known without writing (JuiceFS mount, btrfs) or copy.
EngineChoice choose_engine(const Repo &repo, bool may_probe);

// The juicefs executable on PATH (empty if none).
std::string juicefs_binary();
// True when `path` lies on a JuiceFS FUSE mount (mount table, path-boundary aware, \040 decoded).
bool on_juicefs_mount(const std::string &path);

}  // namespace jvs
