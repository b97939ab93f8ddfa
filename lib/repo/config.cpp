#include "repo/config.hpp"

#include <yaml-cpp/yaml.h>

#include "repo/repo.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace jvs {

RepoConfig load_repo_config(const Repo &repo) {
    RepoConfig c;
    std::string path = path_join(repo.jvs_dir(), "config.yaml");
    auto raw = read_file_if_exists(path);
    if (!raw) return c;
    try {
        YAML::Node root = YAML::Load(*raw);
        if (!root || root.IsNull()) return c;
        if (!root.IsMap()) throw YAML::Exception(YAML::Mark::null_mark(), "not a mapping");
        if (root["default_engine"]) c.default_engine = root["default_engine"].as<std::string>();
        if (root["default_tags"]) c.default_tags = root["default_tags"].as<std::vector<std::string>>();
    } catch (const YAML::Exception &e) {
        fail("E_CONFIG_CORRUPT", "unreadable .jvs/config.yaml: " + std::string(e.what()),
             "fix or remove .jvs/config.yaml", {{"path", path}});
    }
    return c;
}

}  // namespace jvs
