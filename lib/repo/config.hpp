// .jvs/config.yaml, the Go tool's repository configuration (YAML, mode 0600). We read and write the
// Go keys with the Go types (so the Go tool keeps reading the file) plus `retention.keep_tags`, which
// the Go tool ignores. Unknown keys are preserved on write.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jvs {

class Repo;

struct RetentionConfig {
    std::optional<int64_t> keep;                        // keep the N newest snapshots
    std::string within;                                 // keep snapshots newer than this ("" = unset)
    std::optional<std::vector<std::string>> keep_tags;  // keep snapshots with a tag starting with one
    std::string keep_min_age;                           // never collect younger snapshots ("" = unset: 24h)
};

struct RepoConfig {
    std::string default_engine;             // "" = unset (auto); as written (Go long or short name)
    std::vector<std::string> default_tags;  // added to every snapshot's tags
    std::string output_format;              // text | json ("" = unset); the CLI's default
    std::optional<bool> progress_enabled;   // the CLI's default for progress bars
    RetentionConfig retention;              // gc's default retention policy
};

// Missing file = defaults. Unparseable YAML, wrong types or invalid values throw E_CONFIG_CORRUPT
// naming the key.
RepoConfig load_repo_config(const Repo &repo);
std::string repo_config_path(const Repo &repo);

// The keys `config get/set/unset` know, in documentation order (dotted for nested ones).
const std::vector<std::string> &config_keys();
// Throws E_OPTION_INVALID (with the known keys in the hint) for anything else.
void check_config_key(const std::string &key);

// Only the keys that are set, with their JSON types (strings, arrays, booleans, integers).
nlohmann::ordered_json config_to_json(const RepoConfig &c);
std::optional<nlohmann::ordered_json> config_value(const RepoConfig &c, const std::string &key);

// Read-modify-write of config.yaml under the repository lock, atomically (temp file, fsync,
// rename), keeping every other key; a corrupt file is E_CONFIG_CORRUPT and stays as it is. `value` (already validated by the caller, lib/ops/config.cpp)
// nullopt removes the key.
void write_repo_config_key(const Repo &repo, const std::string &key, const std::optional<nlohmann::ordered_json> &value,
                           int64_t lock_timeout_ms);

}  // namespace jvs
