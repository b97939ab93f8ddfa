#include "repo/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "repo/lock.hpp"
#include "repo/repo.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/names.hpp"

namespace jvs {

namespace {
using ordered = nlohmann::ordered_json;

[[noreturn]] void corrupt(const Repo &repo, const std::string &what) {
    fail("E_CONFIG_CORRUPT", ".jvs/config.yaml: " + what, "fix the value with `jvs config set`, or edit/remove the file",
         {{"path", repo_config_path(repo)}});
}

YAML::Node load_yaml(const Repo &repo) {
    auto raw = read_file_if_exists(repo_config_path(repo));
    if (!raw) return YAML::Node(YAML::NodeType::Map);
    try {
        YAML::Node root = YAML::Load(*raw);
        if (!root || root.IsNull()) return YAML::Node(YAML::NodeType::Map);
        if (!root.IsMap()) corrupt(repo, "the top level is not a mapping");
        return root;
    } catch (const YAML::Exception &e) {
        corrupt(repo, std::string("not valid YAML: ") + e.what());
    }
}

// Typed reads of one YAML value; a wrong type or an invalid value is E_CONFIG_CORRUPT naming the key.
template <class T>
std::optional<T> read(const Repo &repo, const YAML::Node &node, const std::string &key) {
    if (!node || node.IsNull()) return std::nullopt;
    try {
        return node.as<T>();
    } catch (const YAML::Exception &) {
        corrupt(repo, key + " has the wrong type");
    }
}

std::vector<std::string> read_tags(const Repo &repo, const YAML::Node &node, const std::string &key) {
    auto tags = read<std::vector<std::string>>(repo, node, key).value_or(std::vector<std::string>{});
    for (const auto &t : tags) {
        try {
            validate_tag(t);
        } catch (const Error &e) {
            corrupt(repo, key + ": " + e.message);
        }
    }
    return tags;
}

// Sets (or with nullopt removes) `key` in the YAML tree; dotted keys are nested maps.
void set_yaml(YAML::Node root, const std::string &key, const std::optional<ordered> &value) {
    size_t dot = key.find('.');
    if (dot != std::string::npos) {
        std::string outer = key.substr(0, dot), inner = key.substr(dot + 1);
        YAML::Node sub = root[outer];
        if (!sub || !sub.IsMap()) {
            if (!value) return;
            root[outer] = YAML::Node(YAML::NodeType::Map);
            sub = root[outer];
        }
        set_yaml(sub, inner, value);
        if (sub.size() == 0) root.remove(outer);
        return;
    }
    if (!value) {
        root.remove(key);
        return;
    }
    const ordered &v = *value;
    if (v.is_array()) {
        YAML::Node seq(YAML::NodeType::Sequence);
        for (const auto &x : v) seq.push_back(x.get<std::string>());
        root[key] = seq;
    } else if (v.is_boolean()) {
        root[key] = v.get<bool>();
    } else if (v.is_number_integer()) {
        root[key] = v.get<int64_t>();
    } else {
        root[key] = v.get<std::string>();
    }
}
}  // namespace

std::string repo_config_path(const Repo &repo) { return path_join(repo.jvs_dir(), "config.yaml"); }

const std::vector<std::string> &config_keys() {
    static const std::vector<std::string> keys = {"default_engine",  "default_tags",     "output_format",
                                                  "progress_enabled", "retention.keep",   "retention.within",
                                                  "retention.keep_tags", "retention.keep_min_age"};
    return keys;
}

void check_config_key(const std::string &key) {
    const auto &keys = config_keys();
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return;
    std::string list;
    for (const auto &k : keys) list += (list.empty() ? "" : ", ") + k;
    fail("E_OPTION_INVALID", "unknown config key '" + key + "'", "known keys: " + list, {{"key", key}});
}

namespace {
// The typed settings of a parsed config.yaml (E_CONFIG_CORRUPT naming the key on a wrong one).
RepoConfig parse_config(const Repo &repo, const YAML::Node &root) {
    RepoConfig c;
    c.default_engine = read<std::string>(repo, root["default_engine"], "default_engine").value_or("");
    if (c.default_engine == "auto") c.default_engine.clear();
    c.default_tags = read_tags(repo, root["default_tags"], "default_tags");
    c.output_format = read<std::string>(repo, root["output_format"], "output_format").value_or("");
    if (!c.output_format.empty() && c.output_format != "text" && c.output_format != "json")
        corrupt(repo, "output_format must be text or json, not '" + c.output_format + "'");
    c.progress_enabled = read<bool>(repo, root["progress_enabled"], "progress_enabled");
    YAML::Node ret = root["retention"];
    if (ret && !ret.IsNull()) {
        if (!ret.IsMap()) corrupt(repo, "retention is not a mapping");
        c.retention.keep = read<int64_t>(repo, ret["keep"], "retention.keep");
        if (c.retention.keep && *c.retention.keep < 0) corrupt(repo, "retention.keep is negative");
        c.retention.within = read<std::string>(repo, ret["within"], "retention.within").value_or("");
        if (!c.retention.within.empty() && !parse_duration(c.retention.within))
            corrupt(repo, "retention.within is not a duration: '" + c.retention.within + "' (use e.g. 24h or 7d)");
        c.retention.keep_min_age = read<std::string>(repo, ret["keep_min_age"], "retention.keep_min_age").value_or("");
        if (!c.retention.keep_min_age.empty() && !parse_duration(c.retention.keep_min_age))
            corrupt(repo, "retention.keep_min_age is not a duration: '" + c.retention.keep_min_age + "' (use e.g. 0 or 24h)");
        if (ret["keep_tags"] && !ret["keep_tags"].IsNull())
            c.retention.keep_tags = read_tags(repo, ret["keep_tags"], "retention.keep_tags");
    }
    return c;
}
}  // namespace

RepoConfig load_repo_config(const Repo &repo) { return parse_config(repo, load_yaml(repo)); }

ordered config_to_json(const RepoConfig &c) {
    ordered j = ordered::object();
    for (const auto &key : config_keys())
        if (auto v = config_value(c, key)) j[key] = *v;
    return j;
}

std::optional<ordered> config_value(const RepoConfig &c, const std::string &key) {
    check_config_key(key);
    auto str = [](const std::string &s) { return s.empty() ? std::nullopt : std::optional<ordered>(s); };
    if (key == "default_engine") return str(c.default_engine);
    if (key == "default_tags") return c.default_tags.empty() ? std::nullopt : std::optional<ordered>(c.default_tags);
    if (key == "output_format") return str(c.output_format);
    if (key == "progress_enabled") return c.progress_enabled ? std::optional<ordered>(*c.progress_enabled) : std::nullopt;
    if (key == "retention.keep") return c.retention.keep ? std::optional<ordered>(*c.retention.keep) : std::nullopt;
    if (key == "retention.within") return str(c.retention.within);
    if (key == "retention.keep_min_age") return str(c.retention.keep_min_age);
    return c.retention.keep_tags ? std::optional<ordered>(*c.retention.keep_tags) : std::nullopt;
}

void write_repo_config_key(const Repo &repo, const std::string &key, const std::optional<ordered> &value,
                           int64_t lock_timeout_ms) {
    check_config_key(key);
    FileLock lock = lock_repo(repo, lock_timeout_ms, "config_set");
    YAML::Node root = load_yaml(repo);
    parse_config(repo, root);  // a corrupt file is reported, never silently rewritten
    set_yaml(root, key, value);
    std::string text;
    if (root.size() > 0) {
        YAML::Emitter out;
        out << root;
        text = std::string(out.c_str()) + "\n";
    }
    atomic_write(repo_config_path(repo), text, 0600);
}

}  // namespace jvs
