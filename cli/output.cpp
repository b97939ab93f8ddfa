// output.cpp -- text renderings, colour, the progress bar, error reports and exit codes.
#include "output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "jvs.h"

namespace jvs_cli {

// ---- exit codes and error documents ---------------------------------------------------------

int exit_code_for(const json &doc) {
    int status = JVS_E_ERROR;
    if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
        const json &e = doc["error"];
        if (e.contains("status") && e["status"].is_number_integer())
            status = e["status"].get<int>();
    }
    switch (status) {
    case JVS_OK: return kExitOk;
    case JVS_E_INVALID_ARG:
    case JVS_E_UNSUPPORTED: return kExitUsage;
    case JVS_E_NOT_FOUND: return kExitNotFound;
    case JVS_E_LOCKED: return kExitLocked;
    case JVS_E_CORRUPT: return kExitCorrupt;
    case JVS_E_EXISTS:
    case JVS_E_CONFLICT: return kExitConflict;
    case JVS_E_CANCELLED: return kExitCancelled;
    default: return kExitError;
    }
}

json make_error(int status, std::string_view code, std::string_view message, std::string_view hint,
                std::string_view op) {
    const char *name = jvs_status_name(status);
    json err = {{"status", status},
                {"status_name", name ? name : "ERROR"},
                {"code", code},
                {"message", message},
                {"hint", hint},
                {"op", op}};
    return json{{"schema", JVS_SCHEMA_VERSION}, {"kind", "error"}, {"error", std::move(err)}};
}

json parse_document(int status, const char *text, std::string_view op) {
    if (text == nullptr) {
        if (status == JVS_OK)
            return make_error(JVS_E_INTERNAL, "E_INTERNAL", "libjvs returned no document", "please report this bug",
                              op);
        return make_error(status, status == JVS_E_NOMEM ? "E_NOMEM" : "E_INTERNAL",
                          status == JVS_E_NOMEM ? "out of memory" : "libjvs returned no error document", "", op);
    }
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
        return make_error(JVS_E_INTERNAL, "E_INTERNAL", "libjvs returned a document that is not a JSON object",
                          "please report this bug", op);
    return doc;
}

// ---- colour ---------------------------------------------------------------------------------

namespace {

bool color_allowed(int fd, bool no_color) {
    if (no_color || std::getenv("NO_COLOR") != nullptr)
        return false;
    const char *term = std::getenv("TERM");
    if (term != nullptr && std::strcmp(term, "dumb") == 0)
        return false;
    return isatty(fd) == 1;
}

const char *ansi(Color c) {
    switch (c) {
    case Color::Red: return "\033[31m";
    case Color::Green: return "\033[32m";
    case Color::Yellow: return "\033[33m";
    case Color::Blue: return "\033[34m";
    case Color::Magenta: return "\033[35m";
    case Color::Cyan: return "\033[36m";
    case Color::Bold: return "\033[1m";
    case Color::Dim: return "\033[2m";
    }
    return "";
}

std::string wrap(bool on, std::string_view text, Color c) {
    if (!on || text.empty())
        return std::string(text);
    return std::string(ansi(c)) + std::string(text) + "\033[0m";
}

std::string str(const json &obj, const char *key, std::string_view fallback = "") {
    if (obj.is_object() && obj.contains(key) && obj[key].is_string())
        return obj[key].get<std::string>();
    return std::string(fallback);
}

std::uint64_t num(const json &obj, const char *key) {
    if (obj.is_object() && obj.contains(key) && obj[key].is_number_unsigned())
        return obj[key].get<std::uint64_t>();
    if (obj.is_object() && obj.contains(key) && obj[key].is_number_integer())
        return static_cast<std::uint64_t>(std::max<std::int64_t>(0, obj[key].get<std::int64_t>()));
    return 0;
}

bool flag(const json &obj, const char *key) {
    return obj.is_object() && obj.contains(key) && obj[key].is_boolean() && obj[key].get<bool>();
}

const json &member(const json &obj, const char *key) {
    static const json empty = json::object();
    if (obj.is_object() && obj.contains(key))
        return obj[key];
    return empty;
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

void line(const std::string &s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
}

} // namespace

void Output::configure(bool json_mode, bool no_color, bool debug) {
    json_mode_ = json_mode;
    debug_ = debug;
    color_out_ = color_allowed(STDOUT_FILENO, no_color);
    color_err_ = color_allowed(STDERR_FILENO, no_color);
}

std::string Output::paint(std::string_view text, Color c) const { return wrap(color_out_, text, c); }
std::string Output::paint_err(std::string_view text, Color c) const { return wrap(color_err_, text, c); }

void Output::print_json(const json &doc) const {
    std::string s = doc.dump(2, ' ', false, json::error_handler_t::replace);
    s += '\n';
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
}

void Output::warn(std::string_view message) const {
    std::fprintf(stderr, "%s %.*s\n", paint_err("warning:", Color::Yellow).c_str(), static_cast<int>(message.size()),
                 message.data());
}

void Output::warn_all(const json &doc) const {
    const json &warnings = member(doc, "warnings");
    if (!warnings.is_array())
        return;
    for (const json &w : warnings) {
        std::string code = str(w, "code");
        warn(str(w, "message", w.dump()) + (code.empty() ? "" : " [" + code + "]"));
    }
}

int Output::report_error(const json &doc) const {
    const int code = exit_code_for(doc);
    std::fflush(stdout);
    if (json_mode_) {
        print_json(doc);
        return code;
    }
    const json &e = member(doc, "error");
    std::string msg = str(e, "message", "unknown error");
    std::string ecode = str(e, "code");
    std::string out = paint_err("jvs:", Color::Red) + " " + msg;
    if (!ecode.empty())
        out += " " + paint_err("[" + ecode + "]", Color::Dim);
    std::fprintf(stderr, "%s\n", out.c_str());

    // Snapshot lists the library attaches: candidates of an ambiguous ref, suggestions for an
    // unknown one.
    const json &details = member(e, "details");
    auto list = [&](const char *key, const char *title) {
        const json &items = member(details, key);
        if (!items.is_array() || items.empty())
            return;
        std::fprintf(stderr, "%s\n", title);
        for (const json &c : items) {
            if (c.is_string())
                std::fprintf(stderr, "  %s\n", c.get<std::string>().c_str());
            else if (c.is_object())
                std::fprintf(stderr, "  %s\n", snapshot_line(c, Output{}).c_str());
        }
    };
    list("candidates", "candidates:");
    list("suggestions", "did you mean:");
    std::string hint = str(e, "hint");
    if (!hint.empty())
        std::fprintf(stderr, "%s %s\n", paint_err("hint:", Color::Cyan).c_str(), hint.c_str());
    if (debug_ && !details.empty())
        std::fprintf(stderr, "details: %s\n", details.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    return code;
}

// ---- small formatting helpers ---------------------------------------------------------------

std::string local_time(std::string_view t) {
    std::tm tm{};
    int y, mo, d, h, mi, s;
    std::string text(t);
    if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6)
        return text;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    long offset = 0; // seconds east of UTC, from a trailing +hh:mm / -hh:mm
    size_t tz = text.find_first_of("Z+-", 19);
    if (tz != std::string::npos && text[tz] != 'Z') {
        int oh = 0, om = 0;
        if (std::sscanf(text.c_str() + tz + 1, "%d:%d", &oh, &om) >= 1)
            offset = (text[tz] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    }
    std::time_t when = timegm(&tm) - offset;
    std::tm local{};
    localtime_r(&when, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &local);
    return buf;
}

std::string human_bytes(std::uint64_t n) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string snapshot_line(const json &desc, const Output &out) {
    std::string note = str(desc, "note");
    if (size_t nl = note.find('\n'); nl != std::string::npos)
        note = note.substr(0, nl) + " ...";
    std::string s = out.paint(str(desc, "snapshot_id"), Color::Yellow) + "  " +
                    out.paint(local_time(str(desc, "created_at")), Color::Dim) + "  " +
                    (note.empty() ? out.paint("(no note)", Color::Dim) : note);
    const json &tags = member(desc, "tags");
    if (tags.is_array() && !tags.empty()) {
        s += "  [";
        bool first = true;
        for (const json &t : tags) {
            if (!first)
                s += ",";
            s += out.paint(t.is_string() ? t.get<std::string>() : t.dump(), Color::Magenta);
            first = false;
        }
        s += "]";
    }
    return s;
}

// ---- renderings -----------------------------------------------------------------------------

void render_repo_init(const json &doc, const Output &out) {
    std::string root = str(doc, "repo_root");
    line("Initialized JVS repository in " + out.paint(root, Color::Green));
    line("  Main worktree: " + out.paint(str(doc, "worktree_path", root + "/main"), Color::Cyan));
    if (str(doc, "layout") == "adopted")
        line("  Adopted in place: the folder's files are the main worktree (control data in .jvs/)");
}

void render_info(const json &doc, const Output &out) {
    line("Repository: " + out.paint(str(doc, "repo_root"), Color::Bold));
    line("  Repo ID: " + str(doc, "repo_id"));
    line("  Format version: " + std::to_string(num(doc, "format_version")));
    const std::string source = str(doc, "engine_source");
    const std::string why = source == "env"      ? "JVS_ENGINE"
                            : source == "config" ? "config.yaml default_engine"
                            : source;
    line("  Engine: " + str(doc, "engine") + (why.empty() ? "" : " (" + why + ")"));
    if (std::string detail = str(doc, "engine_detail"); !detail.empty())
        line("    " + out.paint(detail, Color::Yellow));
    line("  Worktrees: " + std::to_string(num(doc, "total_worktrees")));
    line("  Snapshots: " + std::to_string(num(doc, "total_snapshots")));
    if (std::string wt = str(doc, "worktree"); !wt.empty())
        line("  Current worktree: " + wt);
    if (std::string v = str(doc, "version"); !v.empty())
        line("  Library version: " + v);
}

// A snapshot the Go tool compressed was read inflated: say so, with what it verified.
static void note_compression(const json &doc, const Output &out) {
    const json &c = member(doc, "compression");
    if (!c.is_object() || c.empty())
        return;
    line(out.paint("  (compressed by the Go tool: read inflated, " +
                       std::string(str(c, "verdict") == "verified" ? "verified against its payload hash" : str(c, "verdict")) + ")",
                   Color::Dim));
}

static void warn_degradations(const json &doc, const Output &out) {
    const json &deg = member(doc, "degradations");
    if (!deg.is_array())
        return;
    for (const json &d : deg) {
        std::string msg = str(d, "kind");
        // tar's wording: "<path>: file changed as we read it (...)".
        if (msg == "changed_while_read") {
            out.warn(str(d, "path") + ": " + str(d, "detail", "file changed as we read it"));
            continue;
        }
        if (std::string p = str(d, "path"); !p.empty())
            msg += " '" + p + "'";
        if (std::string det = str(d, "detail"); !det.empty())
            msg += ": " + det;
        out.warn(msg);
    }
}

void render_snapshot(const json &doc, const Output &out) {
    const json &desc = member(doc, "snapshot");
    const std::string id = out.paint(str(desc, "snapshot_id"), Color::Yellow);
    const json &partial = member(desc, "partial_paths");
    if (partial.is_array() && !partial.empty())
        line("Created partial snapshot " + id + " (" + plural(partial.size(), "path", "paths") + ")");
    else
        line("Created snapshot " + id);
    const json &tags = member(desc, "tags");
    if (tags.is_array() && !tags.empty()) {
        std::string t;
        for (const json &x : tags)
            t += (t.empty() ? "" : ", ") + (x.is_string() ? x.get<std::string>() : x.dump());
        line("  Tags: " + t);
    }
    const json &st = member(doc, "stats");
    if (!st.empty()) {
        std::string s = "  " + plural(num(st, "files"), "file", "files") + ", " + plural(num(st, "dirs"), "dir", "dirs") +
                        ", " + plural(num(st, "symlinks"), "symlink", "symlinks") + ": " +
                        std::to_string(num(st, "files_linked")) + " unchanged, " +
                        std::to_string(num(st, "files_copied")) + " copied (" + human_bytes(num(st, "bytes_copied")) +
                        ")";
        line(out.paint(s, Color::Dim));
    }
    warn_degradations(doc, out);
}

static std::string restore_summary(const json &st, bool dry_run) {
    struct Item {
        const char *key, *done, *todo;
    };
    static const Item items[] = {{"created", "created", "to create"},
                                 {"updated", "updated", "to update"},
                                 {"deleted", "deleted", "to delete"},
                                 {"metadata", "metadata-only", "metadata-only"}};
    std::string s;
    for (const Item &it : items) {
        if (std::uint64_t n = num(st, it.key); n > 0)
            s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + (dry_run ? it.todo : it.done);
    }
    if (s.empty())
        s = "no changes";
    s += ", " + std::to_string(num(st, "unchanged")) + " unchanged";
    if (!dry_run && num(st, "bytes_written") > 0)
        s += " (" + human_bytes(num(st, "bytes_written")) + " written)";
    return s;
}

void render_restore(const json &doc, const Output &out, bool ref_was_head) {
    const std::string id = out.paint(str(doc, "snapshot_id"), Color::Yellow);
    const json &st = member(doc, "stats");
    if (flag(doc, "dry_run")) {
        line("Dry run: restoring snapshot " + id + " would change:");
        const json &changes = member(doc, "changes");
        if (!changes.is_array() || changes.empty())
            line("  (nothing: the worktree already matches)");
        else
            for (const json &c : changes) {
                std::string action = str(c, "action"), path = str(c, "path");
                std::string mark = "?";
                Color color = Color::Dim;
                if (action == "create" || action == "mkdir")
                    mark = "+", color = Color::Green;
                else if (action == "update")
                    mark = "~", color = Color::Yellow;
                else if (action == "delete" || action == "rmdir")
                    mark = "-", color = Color::Red;
                else if (action == "metadata")
                    mark = "m";
                if (action == "mkdir" || action == "rmdir")
                    path += "/";
                line("  " + out.paint(mark, color) + " " + path);
            }
        line(restore_summary(st, true) + ". Nothing was changed.");
        return;
    }
    line((ref_was_head ? "Restored to latest snapshot " : "Restored to snapshot ") + id);
    line(out.paint("  " + restore_summary(st, false), Color::Dim));
    note_compression(doc, out);
    warn_degradations(doc, out);
    if (flag(doc, "partial"))
        line(out.paint("  (a partial snapshot: only its paths were restored)", Color::Dim));
    if (flag(doc, "detached")) {
        line("Worktree is now in DETACHED state.");
        line("To continue working from here: jvs worktree fork <name>");
        line("To return to latest: jvs restore HEAD");
    } else {
        line("Worktree is now at HEAD state.");
    }
}

void render_history(const json &doc, const Output &out) {
    const std::string truncated = str(doc, "truncated");
    const json &snaps = member(doc, "snapshots");
    const bool all = str(doc, "mode") == "all";
    const std::string head = str(doc, "head_snapshot_id"), latest = str(doc, "latest_snapshot_id");
    if (!snaps.is_array() || snaps.empty()) {
        line(!all && head.empty() ? "No snapshots yet." : "No snapshots found.");
        return;
    }
    const bool detached = !latest.empty() && head != latest;
    for (const json &d : snaps) {
        const std::string id = str(d, "snapshot_id");
        std::string s = snapshot_line(d, out);
        if (!all && id == latest)
            s += "  " + out.paint("[HEAD]", Color::Bold);
        line(s);
        // The head is marked once: [HEAD] above, or this line where a detached worktree stands.
        if (id == head && detached)
            line(out.paint("◄── you are here (detached)", Color::Dim));
    }
    if (!truncated.empty())
        line(out.paint("(history ends early: " + truncated + ")", Color::Dim));
}

// Prints the per-snapshot verdicts; returns the closing summary line ("" for a single snapshot).
static std::string render_verify_results(const json &doc, const Output &out, bool single) {
    const json &results = member(doc, "results");
    if (!results.is_array() || results.empty()) {
        return "No snapshots to verify.";
    }
    auto valid = [&](bool ok) { return ok ? out.paint("valid", Color::Green) : out.paint("INVALID", Color::Red); };
    if (single && results.size() == 1) {
        const json &r = results[0];
        line("Snapshot: " + out.paint(str(r, "snapshot_id"), Color::Yellow));
        line("  Checksum: " + valid(flag(r, "checksum_valid")));
        line("  Payload hash: " + valid(flag(r, "payload_hash_valid")));
        std::string err = str(r, "error"), code = str(r, "code");
        if (flag(r, "tamper_detected"))
            line("  " + out.paint("TAMPER DETECTED", Color::Red) + ": " + err + (code.empty() ? "" : " [" + code + "]"));
        else if (!err.empty())
            line("  " + out.paint("ERROR", Color::Red) + ": " + err + (code.empty() ? "" : " [" + code + "]"));
        return "";
    }
    size_t bad = 0;
    for (const json &r : results) {
        std::string status = out.paint("OK", Color::Green);
        std::string err = str(r, "error"), code = str(r, "code");
        if (flag(r, "tamper_detected"))
            status = out.paint("TAMPERED", Color::Red);
        else if (!err.empty() || !code.empty())
            status = out.paint("ERROR", Color::Red);
        const bool ok = !flag(r, "tamper_detected") && err.empty() && code.empty();
        if (!ok) {
            ++bad;
            if (!err.empty())
                status += "  " + err;
            if (!code.empty())
                status += " [" + code + "]";
        } else if (str(member(r, "compression"), "verdict") == "verified") {
            status += out.paint("  (compressed by the Go tool; inflated and verified)", Color::Dim);
        }
        line(out.paint(str(r, "snapshot_id"), Color::Yellow) + "  " + status);
    }
    if (bad == 0)
        return out.paint(plural(results.size(), "snapshot", "snapshots") + " verified, all OK", Color::Dim);
    return out.paint(std::to_string(bad) + " of " + plural(results.size(), "snapshot", "snapshots") +
                         " failed verification",
                     Color::Red);
}

// The snapshot verdicts, the audit chain's (recomputed record by record; for a single snapshot
// only when broken), then the summary.
void render_verify(const json &doc, const Output &out, bool single) {
    const std::string summary = render_verify_results(doc, out, single);
    if (!flag(doc, "payload_checked") && doc.contains("payload_checked"))
        line(out.paint("(checksums and .READY markers only: payloads were not hashed)", Color::Dim));
    if (const json &sk = member(doc, "skipped"); sk.is_array() && !sk.empty())
        line(out.paint(plural(sk.size(), "snapshot", "snapshots") + " deleted by gc while verify ran (skipped)", Color::Dim));
    const json &a = member(doc, "audit");
    if (a.contains("ok") && !flag(a, "ok"))
        line("Audit log: " + out.paint("BROKEN", Color::Red) + " " + str(a, "error") + " [" + str(a, "code") + "]");
    else if (a.contains("ok") && !single)
        line("Audit log: " + plural(num(a, "records"), "record", "records") + ", chain " + out.paint("intact", Color::Green));
    if (!summary.empty())
        line(summary);
}

void render_worktree_created(const json &doc, const Output &out, bool forked) {
    const json &wt = member(doc, "worktree");
    const std::string name = str(wt, "name"), from = str(wt, "base_snapshot_id");
    if (from.empty())
        line("Created worktree '" + name + "'");
    else
        line("Created worktree '" + name + "' from snapshot " + out.paint(from, Color::Yellow));
    line("Path: " + out.paint(str(wt, "path"), Color::Cyan));
    if (forked)
        line("Worktree is at HEAD state - you can create snapshots.");
    note_compression(doc, out);
    warn_degradations(doc, out);
}

void render_worktree_list(const json &doc, const Output &out, std::string_view current) {
    const json &wts = member(doc, "worktrees");
    if (!wts.is_array())
        return;
    size_t width = 20;
    for (const json &w : wts)
        width = std::max(width, str(w, "name").size());
    for (const json &w : wts) {
        const std::string name = str(w, "name");
        std::string head = str(w, "head_snapshot_id");
        std::string s = (name == current ? out.paint("*", Color::Green) : std::string(" ")) + " " + name +
                        std::string(width - name.size(), ' ') + "  " +
                        (head.empty() ? out.paint("(none)", Color::Dim) : out.paint(head, Color::Yellow));
        if (flag(w, "detached"))
            s += "  " + out.paint("(detached)", Color::Dim);
        line(s);
    }
}

void render_worktree_path(const json &doc, const Output &) { line(str(doc, "path")); }

void render_worktree_renamed(const json &doc, const Output &, std::string_view old_name) {
    line("Renamed worktree '" + std::string(old_name) + "' to '" + str(member(doc, "worktree"), "name") + "'");
}

void render_worktree_removed(const json &doc, const Output &) { line("Removed worktree '" + str(doc, "name") + "'"); }

namespace {
std::string config_text(const json &v) {
    if (v.is_string())
        return v.get<std::string>();
    if (!v.is_array())
        return v.dump();
    std::string s;
    for (const auto &x : v)
        s += (s.empty() ? "" : ", ") + x.get<std::string>();
    return "[" + s + "]";
}
} // namespace

// `config show`: one `key = value` line per setting; `config get`: the value alone (scripts read it).
void render_config(const json &doc, const Output &out) {
    if (doc.value("kind", "") == "config") {
        const json &settings = doc.at("settings");
        if (settings.empty())
            std::printf("No settings (%s does not set any); defaults apply.\n", doc.value("path", "").c_str());
        for (const auto &[key, value] : settings.items())
            std::printf("%s = %s\n", key.c_str(), config_text(value).c_str());
        std::string keys;
        for (const auto &k : member(doc, "keys"))
            keys += (keys.empty() ? "" : ", ") + k.get<std::string>();
        std::printf("%s\n", out.paint("Keys: " + keys, Color::Dim).c_str());
        return;
    }
    const std::string key = doc.value("key", "");
    if (!doc.value("set", false))
        std::printf("%s (not set)\n", key.c_str());
    else
        std::printf("%s\n", config_text(doc.at("value")).c_str());
}

void render_config_change(const json &doc, const Output &) {
    const std::string key = doc.value("key", "");
    if (doc.value("set", false))
        std::printf("Set %s = %s\n", key.c_str(), config_text(doc.at("value")).c_str());
    else
        std::printf("Unset %s (the default applies)\n", key.c_str());
}

// ---- integrity and upkeep: diff, doctor, gc ------------------------------------------------------

static std::string diff_detail(const json &c) {
    const std::string change = str(c, "change");
    if (change == "type")
        return "type " + str(c, "old_type") + " -> " + str(c, "type");
    if (change == "mode")
        return "mode " + str(c, "old_mode") + " -> " + str(c, "new_mode");
    if (change == "target")
        return "target " + str(c, "old_target") + " -> " + str(c, "new_target");
    std::string d = std::to_string(num(c, "old_size")) + " -> " + std::to_string(num(c, "new_size")) + " bytes";
    if (str(c, "old_mode") != str(c, "new_mode"))
        d += ", mode " + str(c, "old_mode") + " -> " + str(c, "new_mode");
    return d;
}

void render_diff(const json &doc, const Output &out) {
    const std::string to = doc.contains("to_snapshot_id") ? out.paint(str(doc, "to_snapshot_id"), Color::Yellow)
                                                          : "worktree '" + str(doc, "to_worktree") + "' (unsaved changes)";
    line("Diff " + out.paint(str(doc, "from_snapshot_id"), Color::Yellow) + " -> " + to);
    const json &t = member(doc, "totals");
    const std::uint64_t a = num(t, "added"), r = num(t, "removed"), m = num(t, "modified");
    if (!doc.contains("added")) {  // --stat
        line("Added: " + std::to_string(a) + ", Removed: " + std::to_string(r) + ", Modified: " + std::to_string(m));
        return;
    }
    if (a + r + m == 0) {
        line("No changes.");
        return;
    }
    auto name = [](const json &c) {
        std::string p = str(c, "path");
        return str(c, "type") == "dir" ? p + "/" : p;
    };
    auto section = [&](const char *title, const char *key, const char *mark, Color col, bool detail) {
        const json &list = member(doc, key);
        if (!list.is_array() || list.empty())
            return;
        line(std::string(title) + " (" + std::to_string(list.size()) + "):");
        for (const json &c : list)
            line("  " + out.paint(mark, col) + " " + name(c) + (detail ? " (" + diff_detail(c) + ")" : ""));
    };
    section("Added", "added", "+", Color::Green, false);
    section("Removed", "removed", "-", Color::Red, false);
    section("Modified", "modified", "~", Color::Yellow, true);
}

void render_doctor(const json &doc, const Output &out) {
    const json &findings = member(doc, "findings");
    const bool healthy = flag(doc, "healthy");
    if (findings.is_array() && !findings.empty()) {
        line("Findings (" + std::to_string(findings.size()) + "):");
        for (const json &f : findings) {
            const std::string sev = str(f, "severity");
            const Color c = sev == "critical" || sev == "error" ? Color::Red : sev == "warning" ? Color::Yellow : Color::Dim;
            std::string l = "  " + out.paint("[" + sev + "]", c) + " " + str(f, "category") + ": " + str(f, "message") +
                            " [" + str(f, "code") + "]";
            if (f.contains("repaired"))
                l += flag(f, "repaired") ? out.paint(" repaired", Color::Green) : out.paint(" not repaired", Color::Red);
            else if (f.contains("repair"))
                l += out.paint(" (repair: " + str(f, "repair") + ")", Color::Dim);
            line(l);
        }
    }
    const bool dry_run = flag(doc, "dry_run");
    if (dry_run && !member(doc, "repairs").empty())
        line("Repair plan (nothing was changed; run without --dry-run to do it):");
    for (const json &r : member(doc, "repairs")) {
        if (dry_run)
            line("  " + out.paint("would " + str(r, "action"), Color::Yellow) + " " + str(r, "path") + " [" + str(r, "id") + "]");
        else if (!flag(r, "done"))
            line("  " + out.paint("left alone", Color::Yellow) + " " + str(r, "path") + ": " + str(r, "reason"));
    }
    if (healthy)
        line(out.paint("Repository is healthy.", Color::Green));
    else
        line(out.paint("Repository needs attention", Color::Red) + " (run `jvs doctor --repair` for what it can fix)");
}

void render_gc(const json &doc, const Output &out) {
    const std::string kind = str(doc, "kind");
    if (kind == "gc_plan") {
        const json &c = member(doc, "candidates");
        const std::string id = str(doc, "plan_id");
        line("GC plan " + out.paint(id, Color::Yellow) + ": " + plural(c.size(), "snapshot", "snapshots") +
             " to delete, " + human_bytes(num(doc, "bytes_reclaimable")) + " reclaimable, " +
             std::to_string(member(doc, "protected").size()) + " protected");
        for (const json &s : c)
            line("  - " + (s.is_string() ? s.get<std::string>() : std::string()));
        if (!c.empty())
            line("Run it with: jvs gc run --plan-id " + id);
    } else if (kind == "gc_run") {
        line("GC completed successfully: deleted " + plural(member(doc, "deleted").size(), "snapshot", "snapshots") +
             ", freed " + human_bytes(num(doc, "bytes_freed")) + ".");
    } else if (kind == "gc_pin") {
        const json &p = member(doc, "pin");
        line("Pinned " + out.paint(str(p, "snapshot_id"), Color::Yellow) +
             (p.contains("expires_at") ? " until " + str(p, "expires_at") : std::string()));
    } else if (kind == "gc_unpin") {
        line("Unpinned " + out.paint(str(doc, "snapshot_id"), Color::Yellow));
    } else if (kind == "gc_pins") {
        const json &pins = member(doc, "pins");
        if (pins.empty())
            line("No pins.");
        for (const json &p : pins)
            line(out.paint(str(p, "snapshot_id"), Color::Yellow) + "  pinned " + str(p, "pinned_at") +
                 (p.contains("expires_at") ? "  expires " + str(p, "expires_at") : std::string()) +
                 (flag(p, "expired") ? out.paint("  (expired)", Color::Dim) : std::string()) +
                 (p.contains("reason") ? "  " + str(p, "reason") : std::string()));
    } else {
        out.print_json(doc);
    }
}

void render_generic(const json &doc, const Output &out) { out.print_json(doc); }

} // namespace jvs_cli
