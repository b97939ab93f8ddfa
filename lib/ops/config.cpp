// config_show / config_get / config_set / config_unset: the repository's .jvs/config.yaml.
#include <algorithm>

#include "engine/select.hpp"
#include "ops/ops.hpp"
#include "repo/config.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/names.hpp"

namespace jvs {

namespace {
using ordered = nlohmann::ordered_json;

[[noreturn]] void bad_value(const std::string &key, const std::string &why) {
    fail("E_OPTION_INVALID", "config " + key + ": " + why, "`jvs config show` lists the keys; the Configuration section of the jvs API reference gives each one's values",
         {{"key", key}});
}

// "a,b", "[a, b]" or "['a', \"b\"]" as typed on a command line.
std::vector<std::string> split_list(std::string body) {
    if (body.size() >= 2 && body.front() == '[' && body.back() == ']') body = body.substr(1, body.size() - 2);
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t comma = body.find(',', start);
        std::string item = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (item.size() >= 2 && (item.front() == '"' || item.front() == '\'') && item.back() == item.front())
            item = item.substr(1, item.size() - 2);
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

ordered tag_list(const std::string &key, const nlohmann::json &v) {
    std::vector<std::string> items;
    if (v.is_string()) {
        items = split_list(v.get<std::string>());
    } else if (v.is_array()) {
        for (const auto &x : v) {
            if (!x.is_string()) bad_value(key, "must be a list of strings");
            items.push_back(x.get<std::string>());
        }
    } else {
        bad_value(key, "must be a list of strings");
    }
    ordered out = ordered::array();
    for (const auto &t : items) {
        validate_tag(t);
        if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    }
    return out;
}

// A typed JSON value, or the string a command line passes ("true", "5", "a,b"), in canonical form.
ordered parse_config_value(const std::string &key, const nlohmann::json &v) {
    check_config_key(key);
    if (key == "default_tags" || key == "retention.keep_tags") return tag_list(key, v);
    if (key == "progress_enabled") {
        if (v.is_boolean()) return v.get<bool>();
        if (v == "true" || v == "false") return v == "true";
        bad_value(key, "must be true or false");
    }
    if (key == "retention.keep") {
        if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
        if (v.is_string()) {
            const std::string s = v.get<std::string>();
            if (!s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), ::isdigit)) return std::stoll(s);
        }
        bad_value(key, "must be an integer >= 0");
    }
    if (!v.is_string()) bad_value(key, "must be a string");
    const std::string s = v.get<std::string>();
    if (key == "default_engine") {
        auto kind = parse_engine(s, "default_engine");
        return kind ? engine_name(*kind) : "auto";  // the spelling the Go tool reads
    }
    if (key == "output_format" && s != "text" && s != "json") bad_value(key, "must be text or json");
    if ((key == "retention.within" || key == "retention.keep_min_age") && !parse_duration(s))
        bad_value(key, "must be a duration such as 0, 30m, 24h, 7d or 2w");
    return s;
}

Doc value_doc(const std::string &key, const std::optional<ordered> &value) {
    Doc doc = make_doc("config_value");
    doc["key"] = key;
    doc["set"] = value.has_value();
    if (value) doc["value"] = *value;
    return doc;
}
}  // namespace

Doc op_config_show(const Session &s) {
    Doc doc = make_doc("config");
    doc["path"] = repo_config_path(s.repo);
    doc["settings"] = config_to_json(load_repo_config(s.repo));
    doc["keys"] = config_keys();
    return doc;
}

Doc op_config_get(const Session &s, const ConfigOptions &o) {
    check_config_key(o.key);
    return value_doc(o.key, config_value(load_repo_config(s.repo), o.key));
}

Doc op_config_set(const Session &s, const ConfigOptions &o) {
    ordered value = parse_config_value(o.key, o.value);
    write_repo_config_key(s.repo, o.key, value, o.lock_timeout_ms);
    Doc doc = value_doc(o.key, value);
    audit(s.repo, doc, "config_set", "", "", {{"key", o.key}, {"value", value}});
    return doc;
}

Doc op_config_unset(const Session &s, const ConfigOptions &o) {
    check_config_key(o.key);
    write_repo_config_key(s.repo, o.key, std::nullopt, o.lock_timeout_ms);
    Doc doc = value_doc(o.key, std::nullopt);
    audit(s.repo, doc, "config_unset", "", "", {{"key", o.key}});
    return doc;
}

}  // namespace jvs
