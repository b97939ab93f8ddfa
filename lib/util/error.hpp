// Errors inside the engine: one exception type carrying a stable E_ code, a message, a hint and
// structured details. The ABI boundary turns it into the error document; nothing else catches it.
#pragma once
#include <nlohmann/json.hpp>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

namespace jvs {

struct Error : std::exception {
    std::string code;        // stable, e.g. "E_REF_NOT_FOUND"
    std::string message;     // one line, for humans
    std::string hint;        // one line: what to do about it
    nlohmann::json details;  // object (or null): machine-readable specifics

    Error(std::string code_, std::string message_, std::string hint_ = {},
          nlohmann::json details_ = nlohmann::json::object());
    const char *what() const noexcept override { return message.c_str(); }
};

[[noreturn]] void fail(std::string code, std::string message, std::string hint = {},
                       nlohmann::json details = nlohmann::json::object());

// Maps an errno from a filesystem call to E_IO (or E_NO_SPACE), naming the call and the path.
[[noreturn]] void fail_errno(int err, std::string_view call, std::string_view path);

// The jvs_status (JVS_E_*) for a code; unknown codes map to JVS_E_ERROR.
int32_t status_for_code(std::string_view code);

// Every code this library can produce, in documentation order.
const std::vector<std::string> &all_error_codes();

}  // namespace jvs
