#include "util/error.hpp"

#include <cstring>
#include <utility>

#include "jvs.h"

namespace jvs {

Error::Error(std::string code_, std::string message_, std::string hint_, nlohmann::json details_)
    : code(std::move(code_)), message(std::move(message_)), hint(std::move(hint_)), details(std::move(details_)) {
    if (!details.is_object()) details = nlohmann::json::object();
}

void fail(std::string code, std::string message, std::string hint, nlohmann::json details) {
    throw Error(std::move(code), std::move(message), std::move(hint), std::move(details));
}

void fail_errno(int err, std::string_view call, std::string_view path) {
    std::string msg = std::string(call) + " " + std::string(path) + ": " + std::strerror(err);
    nlohmann::json details = {{"errno", err}, {"call", std::string(call)}, {"path", std::string(path)}};
    if (err == ENOSPC || err == EDQUOT)
        fail("E_NO_SPACE", msg, "free space on the filesystem and retry; nothing was published", details);
    fail("E_IO", msg, "check the path's permissions and the filesystem, then retry", details);
}

namespace {
struct CodeStatus {
    const char *code;
    int32_t status;
};
// One table: the documented order of docs/API_REFERENCE.md.
const CodeStatus kCodes[] = {
    {"E_ARG_NULL", JVS_E_INVALID_ARG},
    {"E_JSON_INVALID", JVS_E_INVALID_ARG},
    {"E_OPTION_UNKNOWN", JVS_E_UNSUPPORTED},
    {"E_OPTION_INVALID", JVS_E_INVALID_ARG},
    {"E_METHOD_UNKNOWN", JVS_E_UNSUPPORTED},
    {"E_NAME_INVALID", JVS_E_INVALID_ARG},
    {"E_TAG_INVALID", JVS_E_INVALID_ARG},
    {"E_NOTE_INVALID", JVS_E_INVALID_ARG},
    {"E_PATH_INVALID", JVS_E_INVALID_ARG},
    {"E_PATH_ESCAPE", JVS_E_INVALID_ARG},
    {"E_PATH_NOT_FOUND", JVS_E_NOT_FOUND},
    {"E_PATH_CONFLICT", JVS_E_CONFLICT},
    {"E_NOT_REPO", JVS_E_NOT_FOUND},
    {"E_NOT_WORKTREE", JVS_E_NOT_FOUND},
    {"E_WORKTREE_NOT_FOUND", JVS_E_NOT_FOUND},
    {"E_REF_NOT_FOUND", JVS_E_NOT_FOUND},
    {"E_REF_AMBIGUOUS", JVS_E_INVALID_ARG},
    {"E_NO_SNAPSHOTS", JVS_E_NOT_FOUND},
    {"E_REPO_EXISTS", JVS_E_EXISTS},
    {"E_WORKTREE_EXISTS", JVS_E_EXISTS},
    {"E_DETACHED", JVS_E_CONFLICT},
    {"E_WORKTREE_MAIN", JVS_E_CONFLICT},
    {"E_LOCKED", JVS_E_LOCKED},
    {"E_FORMAT_UNSUPPORTED", JVS_E_UNSUPPORTED},
    {"E_SPECIAL_FILE", JVS_E_UNSUPPORTED},
    {"E_CONFIG_CORRUPT", JVS_E_CORRUPT},
    {"E_DESCRIPTOR_CORRUPT", JVS_E_CORRUPT},
    {"E_CHECKSUM_MISMATCH", JVS_E_CORRUPT},
    {"E_PAYLOAD_HASH_MISMATCH", JVS_E_CORRUPT},
    {"E_COMPRESSED_UNVERIFIED", JVS_E_CORRUPT},
    {"E_SNAPSHOT_INCOMPLETE", JVS_E_CORRUPT},
    {"E_READY_MISMATCH", JVS_E_CORRUPT},
    {"E_AUDIT_CHAIN_BROKEN", JVS_E_CORRUPT},
    {"E_PATH_UNSAFE", JVS_E_CORRUPT},
    {"E_GC_PLAN_MISMATCH", JVS_E_CONFLICT},
    {"E_IO", JVS_E_IO},
    {"E_NO_SPACE", JVS_E_IO},
    {"E_CANCELLED", JVS_E_CANCELLED},
    {"E_NOMEM", JVS_E_NOMEM},
    {"E_INTERNAL", JVS_E_INTERNAL},
};
}  // namespace

int32_t status_for_code(std::string_view code) {
    for (const auto &c : kCodes)
        if (code == c.code) return c.status;
    return JVS_E_ERROR;
}

const std::vector<std::string> &all_error_codes() {
    static const std::vector<std::string> codes = [] {
        std::vector<std::string> v;
        for (const auto &c : kCodes) v.emplace_back(c.code);
        return v;
    }();
    return codes;
}

}  // namespace jvs
