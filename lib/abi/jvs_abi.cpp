// The extern "C" boundary: null checks, strict options, one operation table, errors mapped to
// documents. No repository logic lives here.
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>

#include "abi/options.hpp"
#include "jvs.h"
#include "ops/ops.hpp"
#include "util/error.hpp"
#include "util/names.hpp"

struct jvs_repo {
    jvs::Session session;
};

namespace jvs {
namespace {

char *dup_string(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

std::string dump(const Doc &doc) { return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace); }

jvs_status emit_error(const char *op, const std::string &code, const std::string &message, const std::string &hint,
                      const nlohmann::json &details, char **out_json) {
    jvs_status status = status_for_code(code);
    Doc err = {{"status", status}, {"status_name", jvs_status_name(status)}, {"code", code}, {"message", message},
               {"hint", hint},     {"op", op}};
    if (!details.empty()) err["details"] = details;
    Doc doc = make_doc("error");
    doc["error"] = err;
    try {
        *out_json = dup_string(dump(doc));
    } catch (...) {
        *out_json = nullptr;
        return JVS_E_NOMEM;
    }
    return status;
}

// Runs one entry point: out_json is cleared first, every exception becomes an error document.
template <class F>
jvs_status boundary(const char *op, char **out_json, F &&body) noexcept {
    if (!out_json) return JVS_E_INVALID_ARG;
    *out_json = nullptr;
    try {
        Doc doc = body();
        *out_json = dup_string(dump(doc));
        return JVS_OK;
    } catch (const Error &e) {
        return emit_error(op, e.code, e.message, e.hint, e.details, out_json);
    } catch (const std::bad_alloc &) {
        return emit_error(op, "E_NOMEM", "out of memory", "free memory and retry", {}, out_json);
    } catch (const std::exception &e) {
        return emit_error(op, "E_INTERNAL", std::string("internal error: ") + e.what(), "please report this bug", {},
                          out_json);
    } catch (...) {
        return emit_error(op, "E_INTERNAL", "internal error", "please report this bug", {}, out_json);
    }
}

void require(const void *p, const char *what) {
    if (!p) fail("E_ARG_NULL", std::string(what) + " is NULL", std::string("pass a valid ") + what);
}

// The worktree an operation works on: the option, else the handle's, else "main".
std::string worktree_of(const Session &s, const Options &o) {
    if (o.has("worktree")) return validate_name(o.str("worktree"));
    return s.worktree.value_or("main");
}

using Run = std::function<Doc(Session &, const Options &, OpContext &)>;
struct Operation {
    const char *name;
    std::vector<std::string> keys;
    Run run;
};

const std::vector<Operation> &operations() {
    static const std::vector<Operation> ops = {
        {"info", {"worktree"},
         [](Session &s, const Options &o, OpContext &) {
             std::optional<std::string> wt = s.worktree;  // the handle's, or the one asked for
             if (o.has("worktree")) wt = s.repo.load_worktree(worktree_of(s, o)).name;
             return op_info(s, wt);
         }},
        {"snapshot", {"worktree", "note", "tags", "paths", "compress", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &c) {
             std::string compress = o.str("compress", "none");
             if (compress != "none")
                 fail("E_OPTION_INVALID", "compress '" + compress + "' is not supported",
                      "snapshots are stored uncompressed (the Go tool's gzip mode broke verification); omit it",
                      {{"key", "compress"}});
             return op_snapshot(s, {worktree_of(s, o), o.str("note"), o.strings("tags"), o.strings("paths"),
                                    o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)}, c);
         }},
        {"restore", {"worktree", "ref", "dry_run", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &c) {
             return op_restore(s, {worktree_of(s, o), o.required_str("ref"), o.boolean("dry_run", false),
                                   o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)}, c);
         }},
        {"history", {"worktree", "limit", "grep", "tag", "all"},
         [](Session &s, const Options &o, OpContext &) {
             return op_history(s, {worktree_of(s, o), o.str("grep"), o.str("tag"), o.integer("limit", 0),
                                   o.boolean("all", false)});
         }},
        {"resolve", {"worktree", "ref"},
         [](Session &s, const Options &o, OpContext &) { return op_resolve(s, {worktree_of(s, o), o.required_str("ref")}); }},
        {"verify", {"worktree", "ref", "all", "payload"},
         [](Session &s, const Options &o, OpContext &c) {
             if (o.has("ref") && o.boolean("all", false))
                 fail("E_OPTION_INVALID", "pass either ref or all, not both", "omit one", {{"key", "all"}});
             return op_verify(s, {worktree_of(s, o), o.str("ref"), o.boolean("all", !o.has("ref")),
                                  o.boolean("payload", true)}, c);
         }},
        {"worktree_create", {"worktree", "name", "from", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &c) {
             return op_worktree_create(s, {worktree_of(s, o), o.required_str("name"), o.str("from"),
                                           o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)}, c);
         }},
        {"worktree_fork", {"worktree", "name", "from", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &c) {
             return op_worktree_fork(s, {worktree_of(s, o), o.str("name"), o.str("from"),
                                         o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)}, c);
         }},
        {"worktree_list", {}, [](Session &s, const Options &, OpContext &) { return op_worktree_list(s); }},
        {"worktree_path", {"name"},
         [](Session &s, const Options &o, OpContext &) {
             return op_worktree_path(s, {o.has("name") ? validate_name(o.str("name")) : s.worktree.value_or("main")});
         }},
        {"worktree_rename", {"name", "new_name", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &) {
             return op_worktree_rename(s, {validate_name(o.required_str("name")), o.required_str("new_name"),
                                           o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)});
         }},
        {"worktree_remove", {"name", "force", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &) {
             return op_worktree_remove(s, {validate_name(o.required_str("name")), o.boolean("force", false),
                                           o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)});
         }},
        // ---- integrity and upkeep ----
        {"diff", {"worktree", "from", "to", "stat"},
         [](Session &s, const Options &o, OpContext &c) {
             return op_diff(s, {worktree_of(s, o), o.str("from"), o.str("to"), o.boolean("stat", false)}, c);
         }},
        {"gc_plan", {"keep_last", "keep_within", "keep_tags", "keep_min_age"},
         [](Session &s, const Options &o, OpContext &c) {
             GcPlanOptions g;
             if (o.has("keep_last")) g.keep_last = o.integer("keep_last", 0);
             g.keep_within = o.str("keep_within");
             g.keep_tags_set = o.has("keep_tags");
             g.keep_tags = o.strings("keep_tags");
             if (o.has("keep_min_age")) g.keep_min_age = o.str("keep_min_age");
             return op_gc_plan(s, g, c);
         }},
        {"gc_run", {"plan_id", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &c) {
             return op_gc_run(s, {o.required_str("plan_id"), o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)}, c);
         }},
        {"gc_pin", {"worktree", "ref", "reason", "expires"},
         [](Session &s, const Options &o, OpContext &) {
             return op_gc_pin(s, {worktree_of(s, o), o.required_str("ref"), o.str("reason"), o.str("expires")});
         }},
        {"gc_unpin", {"worktree", "ref"},
         [](Session &s, const Options &o, OpContext &) {
             return op_gc_unpin(s, {worktree_of(s, o), o.required_str("ref"), {}, {}});
         }},
        {"gc_pins", {}, [](Session &s, const Options &, OpContext &) { return op_gc_pins(s); }},
        // ---- configuration ----
        {"config_show", {}, [](Session &s, const Options &, OpContext &) { return op_config_show(s); }},
        {"config_get", {"key"},
         [](Session &s, const Options &o, OpContext &) { return op_config_get(s, {o.required_str("key"), {}}); }},
        {"config_set", {"key", "value", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &) {
             return op_config_set(s, {o.required_str("key"), o.required("value"),
                                      o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)});
         }},
        {"config_unset", {"key", "lock_timeout_ms"},
         [](Session &s, const Options &o, OpContext &) {
             return op_config_unset(s, {o.required_str("key"), {}, o.integer("lock_timeout_ms", kDefaultLockTimeoutMs)});
         }},
        {"doctor", {"strict", "repair", "lock_timeout_ms", "dry_run", "cache_check"},
         [](Session &s, const Options &o, OpContext &c) {
             std::string cache_check = o.str("cache_check", "sample");
             if (cache_check != "sample" && cache_check != "all" && cache_check != "none")
                 fail("E_OPTION_INVALID", "cache_check must be \"sample\", \"all\" or \"none\", not '" + cache_check + "'",
                      "use \"sample\" (default), \"all\" or \"none\" (--cache-check / cache_check)",
                      {{"key", "cache_check"}, {"expected", "sample|all|none"}});
             return op_doctor(s, {o.boolean("strict", false), o.boolean("repair", false),
                                  o.integer("lock_timeout_ms", kDefaultLockTimeoutMs), o.boolean("dry_run", false),
                                  cache_check}, c);
         }},
    };
    return ops;
}

const Operation &find_operation(const std::string &name) {
    for (const auto &op : operations())
        if (name == op.name) return op;
    fail("E_METHOD_UNKNOWN", "unknown method '" + name + "'", "jvs_build_info lists the methods this library has",
         {{"method", name}});
}

jvs_status run_operation(jvs_repo *repo, const char *method, const char *opts, jvs_event_cb cb, void *ud,
                         char **out_json) {
    return boundary(method ? method : "call", out_json, [&]() -> Doc {
        require(method, "method");
        require(repo, "repo");
        const Operation &op = find_operation(method);
        Options o(opts, op.keys);
        EventSink sink;
        if (cb) sink = [cb, ud](const std::string &ev) { return cb(ev.c_str(), ud); };
        OpContext ctx(op.name, sink, &repo->session.interrupts);
        return op.run(repo->session, o, ctx);
    });
}

Doc build_info_doc() {
    Doc doc = make_doc("build_info");
    doc["version"] = JVS_VERSION_STRING;
    doc["version_number"] = JVS_VERSION_NUMBER;
    doc["abi_version"] = JVS_ABI_VERSION;
    doc["schema"] = JVS_SCHEMA_VERSION;
    doc["features"] = build_features();
    Doc ops = Doc::array();
    ops.push_back({{"name", "repo_init"}, {"options", {"name", "adopt"}}});
    ops.push_back({{"name", "repo_open"}, {"options", {"worktree"}}});
    for (const auto &op : operations()) ops.push_back({{"name", op.name}, {"options", op.keys}});
    doc["operations"] = ops;
    doc["error_codes"] = all_error_codes();
    return doc;
}

jvs_status open_handle(const char *op, const char *path, const char *opts, jvs_repo **out_repo, char **out_json,
                       bool create) {
    if (out_repo) *out_repo = nullptr;
    return boundary(op, out_json, [&]() -> Doc {
        require(path, "path");
        require(out_repo, "out_repo");
        Options o(opts, create ? std::vector<std::string>{"name", "adopt"} : std::vector<std::string>{"worktree"});
        if (create && o.has("name")) validate_name(o.str("name"));
        // adopt: true = the directory becomes the main worktree in place, false = the Go layout,
        // absent = adopt an existing non-empty directory (see InitLayout).
        InitLayout layout = !o.has("adopt") ? InitLayout::Auto
                            : o.boolean("adopt", false) ? InitLayout::Adopt : InitLayout::Standard;
        std::string wt = o.has("worktree") ? validate_name(o.str("worktree")) : std::string();
        Repo repo = create ? Repo::create(path, layout) : Repo::discover(path);
        auto *h = new jvs_repo{Session(std::move(repo))};
        if (create) h->session.worktree = "main";
        if (!wt.empty()) {
            if (!h->session.repo.worktree_exists(wt)) {
                delete h;
                fail("E_WORKTREE_NOT_FOUND", "worktree '" + wt + "' not found", "list worktrees with `jvs worktree list`",
                     {{"worktree", wt}});
            }
            h->session.worktree = wt;
        }
        Doc doc;
        try {
            doc = repo_doc(h->session, create);
        } catch (...) {
            delete h;
            throw;
        }
        *out_repo = h;
        return doc;
    });
}

}  // namespace
}  // namespace jvs

extern "C" {

JVS_API uint32_t JVS_CALL jvs_abi_version(void) noexcept { return JVS_ABI_VERSION; }
JVS_API uint32_t JVS_CALL jvs_version_number(void) noexcept { return JVS_VERSION_NUMBER; }
JVS_API const char *JVS_CALL jvs_version_string(void) noexcept { return JVS_VERSION_STRING; }

JVS_API const char *JVS_CALL jvs_status_name(jvs_status status) noexcept {
    switch (status) {
        case JVS_OK: return "JVS_OK";
        case JVS_E_ERROR: return "JVS_E_ERROR";
        case JVS_E_INVALID_ARG: return "JVS_E_INVALID_ARG";
        case JVS_E_NOT_FOUND: return "JVS_E_NOT_FOUND";
        case JVS_E_EXISTS: return "JVS_E_EXISTS";
        case JVS_E_LOCKED: return "JVS_E_LOCKED";
        case JVS_E_CONFLICT: return "JVS_E_CONFLICT";
        case JVS_E_CORRUPT: return "JVS_E_CORRUPT";
        case JVS_E_IO: return "JVS_E_IO";
        case JVS_E_CANCELLED: return "JVS_E_CANCELLED";
        case JVS_E_UNSUPPORTED: return "JVS_E_UNSUPPORTED";
        case JVS_E_NOMEM: return "JVS_E_NOMEM";
        case JVS_E_INTERNAL: return "JVS_E_INTERNAL";
        default: return "JVS_E_UNKNOWN";
    }
}

JVS_API jvs_status JVS_CALL jvs_build_info(char **out_json) noexcept {
    return jvs::boundary("build_info", out_json, [] { return jvs::build_info_doc(); });
}

JVS_API void JVS_CALL jvs_free(void *ptr) noexcept { std::free(ptr); }

JVS_API jvs_status JVS_CALL jvs_repo_init(const char *path, const char *opts_json, jvs_repo **out_repo,
                                          char **out_json) noexcept {
    return jvs::open_handle("repo_init", path, opts_json, out_repo, out_json, true);
}

JVS_API jvs_status JVS_CALL jvs_repo_open(const char *path, const char *opts_json, jvs_repo **out_repo,
                                          char **out_json) noexcept {
    return jvs::open_handle("repo_open", path, opts_json, out_repo, out_json, false);
}

JVS_API void JVS_CALL jvs_repo_close(jvs_repo *repo) noexcept { delete repo; }

JVS_API void JVS_CALL jvs_repo_interrupt(jvs_repo *repo) noexcept {
    if (repo) repo->session.interrupts.fetch_add(1, std::memory_order_relaxed);
}

#define JVS_OP_NO_CB(fn, name)                                                                   \
    JVS_API jvs_status JVS_CALL fn(jvs_repo *repo, const char *opts_json, char **out_json) noexcept { \
        return jvs::run_operation(repo, name, opts_json, nullptr, nullptr, out_json);            \
    }
#define JVS_OP_CB(fn, name)                                                                        \
    JVS_API jvs_status JVS_CALL fn(jvs_repo *repo, const char *opts_json, jvs_event_cb cb, void *user_data, \
                                   char **out_json) noexcept {                                     \
        return jvs::run_operation(repo, name, opts_json, cb, user_data, out_json);                 \
    }

JVS_OP_NO_CB(jvs_info, "info")
JVS_OP_CB(jvs_snapshot, "snapshot")
JVS_OP_CB(jvs_restore, "restore")
JVS_OP_NO_CB(jvs_history, "history")
JVS_OP_NO_CB(jvs_resolve, "resolve")
JVS_OP_CB(jvs_verify, "verify")
JVS_OP_CB(jvs_worktree_create, "worktree_create")
JVS_OP_CB(jvs_worktree_fork, "worktree_fork")
JVS_OP_NO_CB(jvs_worktree_list, "worktree_list")
JVS_OP_NO_CB(jvs_worktree_path, "worktree_path")
JVS_OP_NO_CB(jvs_worktree_rename, "worktree_rename")
JVS_OP_NO_CB(jvs_worktree_remove, "worktree_remove")

JVS_API jvs_status JVS_CALL jvs_call(jvs_repo *repo, const char *method, const char *params_json, jvs_event_cb cb,
                                     void *user_data, char **out_json) noexcept {
    return jvs::run_operation(repo, method, params_json, cb, user_data, out_json);
}

}  // extern "C"
