#include "abi/options.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace jvs {

Options::Options(const char *json, const std::vector<std::string> &allowed) {
    if (!json || !*json) {
        j_ = nlohmann::json::object();
        return;
    }
    try {
        j_ = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception &e) {
        fail("E_JSON_INVALID", std::string("options are not valid JSON: ") + e.what(),
             "pass a UTF-8 JSON object, e.g. {\"note\":\"x\"}, or NULL for defaults");
    }
    if (j_.is_null()) j_ = nlohmann::json::object();
    if (!j_.is_object())
        fail("E_JSON_INVALID", "options must be a JSON object", "pass a JSON object, e.g. {}, or NULL for defaults");
    for (const auto &[key, value] : j_.items()) {
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            fail("E_OPTION_UNKNOWN", "unknown option '" + key + "'",
                 "this library accepts: " + [&] {
                     std::string s;
                     for (const auto &a : allowed) s += (s.empty() ? "" : ", ") + a;
                     return s.empty() ? std::string("no options") : s;
                 }(),
                 {{"key", key}, {"allowed", allowed}});
    }
}

void Options::wrong_type(const char *key, const char *want) const {
    fail("E_OPTION_INVALID", std::string("option '") + key + "' must be " + want,
         std::string("pass ") + want + " for '" + key + "'", {{"key", key}, {"expected", want}});
}

std::string Options::str(const char *key, const std::string &def) const {
    if (!has(key)) return def;
    if (!j_[key].is_string()) wrong_type(key, "a string");
    return j_[key].get<std::string>();
}

bool Options::boolean(const char *key, bool def) const {
    if (!has(key)) return def;
    if (!j_[key].is_boolean()) wrong_type(key, "a boolean");
    return j_[key].get<bool>();
}

int64_t Options::integer(const char *key, int64_t def) const {
    if (!has(key)) return def;
    if (!j_[key].is_number_integer()) wrong_type(key, "an integer");
    int64_t v = j_[key].get<int64_t>();
    if (v < 0) wrong_type(key, "an integer >= 0");
    return v;
}

const nlohmann::json &Options::required(const char *key) const {
    if (!has(key))
        fail("E_OPTION_INVALID", std::string("option '") + key + "' is required", std::string("pass '") + key + "'",
             {{"key", key}});
    return j_[key];
}

std::string Options::required_str(const char *key) const {
    required(key);
    return str(key);
}

std::vector<std::string> Options::strings(const char *key) const {
    if (!has(key)) return {};
    const auto &v = j_[key];
    if (!v.is_array()) wrong_type(key, "an array of strings");
    std::vector<std::string> out;
    for (const auto &x : v) {
        if (!x.is_string()) wrong_type(key, "an array of strings");
        out.push_back(x.get<std::string>());
    }
    return out;
}

}  // namespace jvs
