// Strict reading of an operation's JSON options: unknown keys and wrong types are errors, so a
// binding newer than the library fails loudly instead of having its options silently ignored.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jvs {

class Options {
   public:
    // NULL or "" = no options. Throws E_JSON_INVALID (not a UTF-8 JSON object) or E_OPTION_UNKNOWN.
    Options(const char *json, const std::vector<std::string> &allowed);
    bool has(const char *key) const { return j_.contains(key) && !j_[key].is_null(); }
    std::string str(const char *key, const std::string &def = {}) const;
    bool boolean(const char *key, bool def) const;
    int64_t integer(const char *key, int64_t def) const;  // integers are never negative here
    std::string required_str(const char *key) const;      // E_OPTION_INVALID when absent
    std::vector<std::string> strings(const char *key) const;  // array of strings
    const nlohmann::json &required(const char *key) const;    // any JSON value; E_OPTION_INVALID when absent

   private:
    [[noreturn]] void wrong_type(const char *key, const char *want) const;
    nlohmann::json j_;
};

}  // namespace jvs
