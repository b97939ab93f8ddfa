// .jvs/config.yaml, the Go tool's repository configuration (yaml). Unknown keys are kept on write.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace jvs {

class Repo;

struct RepoConfig {
    std::string default_engine;  // "" = unset (auto)
    std::vector<std::string> default_tags;
};

// Missing file = defaults. Unparseable YAML or wrong types throw E_CONFIG_CORRUPT.
RepoConfig load_repo_config(const Repo &repo);

}  // namespace jvs
