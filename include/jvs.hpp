/*
 * jvs.hpp -- a header-only C++17 wrapper over the C ABI in jvs.h.
 *
 *     #include <jvs.hpp>
 *     jvs::repo repo = jvs::repo::open("myrepo/main");
 *     std::string doc = repo.snapshot(R"({"note":"nightly","tags":["auto"]})",
 *                                     [](std::string_view event) { std::puts(event.data()); });
 *
 * - jvs::repo owns one jvs_repo handle (RAII, move-only): closed by its destructor.
 * - Options go in and documents come out as JSON text in std::string (docs/API_REFERENCE.md
 *   describes each one); parse them with the JSON library of your choice. jvs::quote() makes a JSON
 *   string literal, to build options from user text safely.
 * - A failing call throws jvs::error, carrying the status, the stable E_... code, the hint, the
 *   details (JSON text) and the whole error document.
 * - Long operations take a jvs::progress_fn, called on the calling thread with each event document.
 *   Throwing from it cancels the operation (nothing is published) and the exception is re-thrown
 *   once the call has returned. repo::interrupt() cancels from another thread.
 * - Every returned buffer is released with jvs_free(). Thread safety is the library's: a repo may be
 *   used from many threads at once; it must not be destroyed while a call on it is running.
 *
 * Needs nothing but jvs.h and the standard library, and adds no symbol to libjvs: link with
 * `pkg-config --cflags --libs jvs`.
 */
#ifndef JVS_HPP
#define JVS_HPP

#include "jvs.h"

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace jvs {

/* Receives each event document ({"kind":"progress",...}) of a long operation, borrowed for the
 * duration of the call. Throw to cancel. */
using progress_fn = std::function<void(std::string_view event_json)>;

namespace detail {

/* The few JSON reads this header needs (the fields of an error document), so that it depends on
 * nothing but jvs.h. Input is a document libjvs produced: compact, valid UTF-8 JSON. */
class json_reader {
public:
    explicit json_reader(std::string_view text) noexcept : s_(text) {}

    /* The raw text of member `key` of the object at the start of the text, or empty. */
    std::string_view member(std::string_view key) const {
        std::size_t i = 0;
        ws(i);
        if (i >= s_.size() || s_[i] != '{') return {};
        ++i;
        for (;;) {
            ws(i);
            if (i >= s_.size() || s_[i] != '"') return {};
            std::string name;
            if (!string_at(i, name)) return {};
            ws(i);
            if (i >= s_.size() || s_[i] != ':') return {};
            ++i;
            ws(i);
            const std::size_t start = i;
            if (!skip_value(i)) return {};
            if (name == key) return s_.substr(start, i - start);
            ws(i);
            if (i >= s_.size() || s_[i] != ',') return {};
            ++i;
        }
    }

    /* The decoded value of a JSON string (the whole text), or `fallback` if it is not one. */
    std::string string_value(std::string fallback = {}) const {
        std::size_t i = 0;
        std::string out;
        if (s_.empty() || s_[0] != '"' || !string_at(i, out)) return fallback;
        return out;
    }

private:
    void ws(std::size_t &i) const noexcept {
        while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\n' || s_[i] == '\r')) ++i;
    }

    static int hex(char c) noexcept {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    bool hex4(std::size_t &i, std::uint32_t &cp) const noexcept {
        if (i + 4 > s_.size()) return false;
        cp = 0;
        for (int k = 0; k < 4; ++k) {
            const int h = hex(s_[i + k]);
            if (h < 0) return false;
            cp = cp * 16 + static_cast<std::uint32_t>(h);
        }
        i += 4;
        return true;
    }

    static void utf8(std::string &out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    /* Decodes the string starting at s_[i] == '"'; leaves i after the closing quote. */
    bool string_at(std::size_t &i, std::string &out) const {
        ++i;
        while (i < s_.size()) {
            const char c = s_[i++];
            if (c == '"') return true;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i >= s_.size()) return false;
            const char e = s_[i++];
            switch (e) {
            case '"': case '\\': case '/': out += e; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(i, cp)) return false;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < s_.size() && s_[i] == '\\' && s_[i + 1] == 'u') {
                    std::size_t j = i + 2;
                    std::uint32_t lo = 0;
                    if (hex4(j, lo) && lo >= 0xDC00 && lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i = j;
                    }
                }
                utf8(out, cp);
                break;
            }
            default: return false;
            }
        }
        return false;
    }

    /* Skips one value (string, number, literal, or nested object/array). */
    bool skip_value(std::size_t &i) const {
        if (i >= s_.size()) return false;
        const char c = s_[i];
        if (c == '"') {
            std::string ignored;
            return string_at(i, ignored);
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            while (i < s_.size()) {
                const char d = s_[i];
                if (d == '"') {
                    std::string ignored;
                    if (!string_at(i, ignored)) return false;
                    continue;
                }
                if (d == '{' || d == '[') ++depth;
                if (d == '}' || d == ']') --depth;
                ++i;
                if (depth == 0) return true;
            }
            return false;
        }
        const std::size_t start = i;
        while (i < s_.size() && s_[i] != ',' && s_[i] != '}' && s_[i] != ']' && s_[i] != ' ' && s_[i] != '\n') ++i;
        return i > start;
    }

    std::string_view s_;
};

inline std::string status_name(jvs_status status) {
    const char *name = jvs_status_name(status);
    return name ? name : "JVS_E_UNKNOWN";
}

} // namespace detail

/* A failed libjvs call. what() reads "op: message [E_CODE] (hint: ...)". */
class error : public std::runtime_error {
public:
    /* From a call's status and its error document (empty when the library had none: JVS_E_NOMEM). */
    error(jvs_status status, std::string document) : error(parse(status, std::move(document))) {}

    /* An error raised by this wrapper itself (no document). */
    error(jvs_status status, std::string code, std::string message, std::string hint = {})
        : error(fields{status, detail::status_name(status), std::move(code), std::move(message), std::move(hint),
                       std::string(), "{}", std::string()}) {}

    jvs_status status() const noexcept { return f_.status; }
    const std::string &status_name() const noexcept { return f_.status_name; }
    /* The stable fine-grained code, e.g. "E_REF_NOT_FOUND" (docs/API_REFERENCE.md §8.2). */
    const std::string &code() const noexcept { return f_.code; }
    const std::string &message() const noexcept { return f_.message; }
    /* One line saying what to do about it (may be empty). */
    const std::string &hint() const noexcept { return f_.hint; }
    /* The operation that failed ("snapshot", "repo_open", ...). */
    const std::string &op() const noexcept { return f_.op; }
    /* Machine-readable specifics: a JSON object as text ("{}" when none). */
    const std::string &details() const noexcept { return f_.details; }
    /* The whole error document as the library returned it (empty if it returned none). */
    const std::string &document() const noexcept { return f_.document; }

private:
    struct fields {
        jvs_status status;
        std::string status_name, code, message, hint, op, details, document;
    };

    explicit error(fields f) : std::runtime_error(describe(f)), f_(std::move(f)) {}

    static fields parse(jvs_status status, std::string document) {
        fields f{status, detail::status_name(status), std::string(), std::string(), std::string(), std::string(),
                 "{}", std::move(document)};
        const std::string_view err = detail::json_reader(f.document).member("error");
        if (err.empty()) {
            f.code = status == JVS_E_NOMEM ? "E_NOMEM" : "E_ERROR";
            f.message = status == JVS_E_NOMEM ? "libjvs ran out of memory" : "libjvs failed with " + f.status_name;
            return f;
        }
        const detail::json_reader e(err);
        auto str = [&e](std::string_view key, std::string fallback = {}) {
            return detail::json_reader(e.member(key)).string_value(std::move(fallback));
        };
        f.code = str("code", "E_ERROR");
        f.message = str("message", f.code);
        f.hint = str("hint");
        f.op = str("op");
        f.status_name = str("status_name", f.status_name);
        const std::string_view details = e.member("details");
        if (!details.empty()) f.details = std::string(details);
        return f;
    }

    static std::string describe(const fields &f) {
        std::string s = f.op.empty() ? std::string() : f.op + ": ";
        s += f.message + " [" + f.code + "]";
        if (!f.hint.empty()) s += " (hint: " + f.hint + ")";
        return s;
    }

    fields f_;
};

namespace detail {

struct doc_free {
    void operator()(char *p) const noexcept { jvs_free(p); }
};
using doc_ptr = std::unique_ptr<char, doc_free>;

/* > 0 while a progress function runs on this thread: it must not call into libjvs (jvs.h). */
inline thread_local int callback_depth = 0;

struct call_context {
    const progress_fn *progress;
    std::exception_ptr thrown;
};

inline std::int32_t JVS_CALL on_event(const char *event_json, void *user_data) noexcept {
    auto *ctx = static_cast<call_context *>(user_data);
    if (ctx->thrown) return 1;
    ++callback_depth;
    try {
        (*ctx->progress)(event_json ? std::string_view(event_json) : std::string_view());
    } catch (...) {
        ctx->thrown = std::current_exception();
    }
    --callback_depth;
    return ctx->thrown ? 1 : 0;
}

inline void check_not_in_callback() {
    if (callback_depth > 0)
        throw error(JVS_E_INVALID_ARG, "E_REENTRANT", "a progress function must not call into libjvs",
                    "use repo::interrupt() to cancel, or throw from the progress function");
}

/* Runs `c(cb, user_data, &out)`, frees the document, re-throws what the progress function threw,
 * and throws jvs::error for a failed call. */
template <class Call> std::string invoke(Call &&c, const progress_fn &progress) {
    check_not_in_callback();
    call_context ctx{&progress, nullptr};
    char *out = nullptr;
    const jvs_status st = progress ? c(&on_event, &ctx, &out) : c(nullptr, nullptr, &out);
    doc_ptr doc(out);
    if (ctx.thrown) std::rethrow_exception(ctx.thrown);
    if (st != JVS_OK) throw error(st, doc ? std::string(doc.get()) : std::string());
    return doc ? std::string(doc.get()) : std::string();
}

inline void check_abi() {
    if (jvs_abi_version() != JVS_ABI_VERSION)
        throw error(JVS_E_UNSUPPORTED, "E_ABI_MISMATCH", "the loaded libjvs has another ABI than jvs.h",
                    "load the libjvs.so." + std::to_string(JVS_ABI_VERSION) + " this header belongs to");
}

} // namespace detail

/* A JSON string literal (with quotes) for `s`, which must be UTF-8: to build options from text. */
inline std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += ch;
            }
        }
    }
    out += '"';
    return out;
}

inline std::uint32_t abi_version() noexcept { return jvs_abi_version(); }
inline std::string version() { return jvs_version_string(); }

/* The build_info document: version, features, every operation with its option keys, every code. */
inline std::string build_info() {
    return detail::invoke([](jvs_event_cb, void *, char **out) { return jvs_build_info(out); }, {});
}

/* An open repository, bound to one worktree (docs/API_REFERENCE.md §3.2). Move-only. */
class repo {
public:
    repo() noexcept = default;
    repo(const repo &) = delete;
    repo &operator=(const repo &) = delete;
    repo(repo &&o) noexcept : h_(std::exchange(o.h_, nullptr)), doc_(std::move(o.doc_)) {}
    repo &operator=(repo &&o) noexcept {
        if (this != &o) {
            close();
            h_ = std::exchange(o.h_, nullptr);
            doc_ = std::move(o.doc_);
        }
        return *this;
    }
    ~repo() { close(); }

    /* Creates a repository at `path` and opens worktree "main" (its files are in path/main). */
    static repo init(const std::string &path, const std::string &opts_json = {}) {
        return make(&jvs_repo_init, path, opts_json);
    }
    /* Opens the repository containing `path` (any path inside a worktree binds that worktree). */
    static repo open(const std::string &path, const std::string &opts_json = {}) {
        return make(&jvs_repo_open, path, opts_json);
    }

    explicit operator bool() const noexcept { return h_ != nullptr; }
    jvs_repo *get() const noexcept { return h_; }
    /* The "repo" document init/open returned: repo_root, worktree, worktree_path, ... */
    const std::string &document() const noexcept { return doc_; }
    /* Closes the handle now (no call on it may be running). */
    void close() noexcept { jvs_repo_close(std::exchange(h_, nullptr)); }
    /* Cancels every call running on this handle now; callable from any thread. */
    void interrupt() const noexcept { jvs_repo_interrupt(h_); }

    /* Any operation by name through jvs_call (also those without a function of their own:
     * "diff", "doctor", "gc_plan", "gc_run", "config_get", ...). */
    std::string call(const std::string &method, const std::string &params_json = {},
                     const progress_fn &progress = {}) const {
        return detail::invoke([&](jvs_event_cb cb, void *ud, char **out) {
            return jvs_call(h_, method.c_str(), params_json.c_str(), cb, ud, out);
        }, progress);
    }

    std::string info(const std::string &opts_json = {}) const { return plain(&jvs_info, opts_json); }
    std::string snapshot(const std::string &opts_json = {}, const progress_fn &progress = {}) const {
        return with_events(&jvs_snapshot, opts_json, progress);
    }
    std::string restore(const std::string &opts_json, const progress_fn &progress = {}) const {
        return with_events(&jvs_restore, opts_json, progress);
    }
    std::string history(const std::string &opts_json = {}) const { return plain(&jvs_history, opts_json); }
    std::string resolve(const std::string &opts_json) const { return plain(&jvs_resolve, opts_json); }
    std::string verify(const std::string &opts_json = {}, const progress_fn &progress = {}) const {
        return with_events(&jvs_verify, opts_json, progress);
    }
    std::string worktree_create(const std::string &opts_json, const progress_fn &progress = {}) const {
        return with_events(&jvs_worktree_create, opts_json, progress);
    }
    std::string worktree_fork(const std::string &opts_json = {}, const progress_fn &progress = {}) const {
        return with_events(&jvs_worktree_fork, opts_json, progress);
    }
    std::string worktree_list(const std::string &opts_json = {}) const { return plain(&jvs_worktree_list, opts_json); }
    std::string worktree_path(const std::string &opts_json = {}) const { return plain(&jvs_worktree_path, opts_json); }
    std::string worktree_rename(const std::string &opts_json) const { return plain(&jvs_worktree_rename, opts_json); }
    std::string worktree_remove(const std::string &opts_json) const { return plain(&jvs_worktree_remove, opts_json); }

private:
    using open_fn = jvs_status(JVS_CALL *)(const char *, const char *, jvs_repo **, char **) JVS_NOEXCEPT;
    using plain_fn = jvs_status(JVS_CALL *)(jvs_repo *, const char *, char **) JVS_NOEXCEPT;
    using event_fn = jvs_status(JVS_CALL *)(jvs_repo *, const char *, jvs_event_cb, void *, char **) JVS_NOEXCEPT;

    static repo make(open_fn fn, const std::string &path, const std::string &opts_json) {
        detail::check_abi();
        repo r;
        r.doc_ = detail::invoke([&](jvs_event_cb, void *, char **out) {
            return fn(path.c_str(), opts_json.c_str(), &r.h_, out);
        }, {});
        return r;
    }

    std::string plain(plain_fn fn, const std::string &opts_json) const {
        return detail::invoke([&](jvs_event_cb, void *, char **out) { return fn(h_, opts_json.c_str(), out); }, {});
    }

    std::string with_events(event_fn fn, const std::string &opts_json, const progress_fn &progress) const {
        return detail::invoke([&](jvs_event_cb cb, void *ud, char **out) {
            return fn(h_, opts_json.c_str(), cb, ud, out);
        }, progress);
    }

    jvs_repo *h_ = nullptr;
    std::string doc_;
};

} // namespace jvs

#endif /* JVS_HPP */
