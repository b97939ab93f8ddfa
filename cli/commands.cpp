// commands.cpp -- one short function per jvs subcommand: build the options JSON, call libjvs
// through jvs.h, hand the document to output.cpp. Failures throw Failed (reported by main.cpp).
#include "commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

namespace jvs_cli {

// ---- Session --------------------------------------------------------------------------------

Session::Session(const Globals &globals, Output &output, std::string dir)
    : g(globals), out(output), cwd(std::move(dir)) {
    progress_.enable(!g.json && !g.no_progress && isatty(STDERR_FILENO) == 1);
}

Session::~Session() {
    if (repo_ == nullptr)
        return;
    // Single-threaded: once the target is cleared, the SIGINT handler can no longer reach the handle.
    set_interrupt_target(nullptr);
    jvs_repo_close(repo_);
}

jvs_repo *Session::repo() {
    if (repo_ != nullptr)
        return repo_;
    jvs_repo *r = nullptr;
    repo_doc_ = call("repo_open", [&](jvs_event_cb, void *, char **o) { return jvs_repo_open(cwd.c_str(), nullptr, &r, o); });
    repo_ = r;
    set_interrupt_target(repo_);
    apply_repo_config();
    return repo_;
}

// The repository's defaults for this CLI (`jvs config set output_format json`, `progress_enabled
// false`); flags win. An unreadable config.yaml is left for the command itself to report.
void Session::apply_repo_config() {
    char *text = nullptr;
    const jvs_status st = jvs_call(repo_, "config_show", nullptr, nullptr, nullptr, &text);
    const json doc = parse_document(st, text, "config_show");
    jvs_free(text);
    if (st != JVS_OK || !doc.contains("settings"))
        return;
    const json &settings = doc["settings"];
    if (settings.value("output_format", "") == "json" && !g.json && !g.text) {
        out.configure(true, g.no_color, g.debug);
        progress_.enable(false);
    }
    if (settings.contains("progress_enabled") && settings["progress_enabled"] == false)
        progress_.enable(false);
}

const json &Session::repo_doc() {
    repo();
    return repo_doc_;
}

std::string Session::current_worktree() {
    const json &d = repo_doc();
    return d.contains("worktree") && d["worktree"].is_string() ? d["worktree"].get<std::string>() : "";
}

// Progress events draw the bar; warning events go to stderr; unknown kinds are ignored.
int32_t Session::on_event(const char *event_json, void *user_data) noexcept {
    try {
        auto *self = static_cast<Session *>(user_data);
        const json ev = json::parse(event_json ? event_json : "", nullptr, false);
        const std::string kind = ev.is_object() ? ev.value("kind", "") : "";
        if (kind == "progress") {
            self->progress_.update(ev);
        } else if (kind == "warning") {
            self->progress_.clear();
            self->out.warn(ev.value("message", std::string("(no message)")));
        }
    } catch (...) {
        // a malformed event must not break the operation
    }
    return interrupted() ? 1 : 0;
}

json Session::call(const char *op, const Call &fn) {
    if (interrupted())
        throw Failed{make_error(JVS_E_CANCELLED, "E_CANCELLED", "interrupted", "", op)};
    char *text = nullptr;
    const jvs_status st = fn(&Session::on_event, this, &text);
    progress_.clear();
    json doc;
    try {
        doc = parse_document(st, text, op);
    } catch (...) {
        jvs_free(text);
        throw;
    }
    jvs_free(text);
    if (st == JVS_OK) {
        out.warn_all(doc);
        return doc;
    }
    if (!doc.contains("error") || !doc["error"].is_object())
        doc = make_error(st, "E_INTERNAL", "libjvs failed without an error document", "please report this bug", op);
    throw Failed{std::move(doc)};
}

std::string Session::opts(const json &o) {
    try {
        return o.dump();
    } catch (const json::type_error &) {
        // Bytes that are not UTF-8 cannot reach the library (its options are JSON): the error is
        // the one the library documents for that option (a note -> E_NOTE_INVALID, ...).
        static const std::map<std::string, std::pair<const char *, const char *>> by_key = {
            {"note", {"E_NOTE_INVALID", "note"}},        {"tags", {"E_TAG_INVALID", "tag"}},
            {"paths", {"E_PATH_INVALID", "path"}},       {"name", {"E_NAME_INVALID", "name"}},
            {"new_name", {"E_NAME_INVALID", "name"}},    {"worktree", {"E_NAME_INVALID", "worktree name"}},
        };
        for (auto it = o.begin(); it != o.end(); ++it) {
            try {
                (void)it.value().dump();
            } catch (const json::type_error &) {
                auto known = by_key.find(it.key());
                if (known != by_key.end())
                    throw Failed{make_error(JVS_E_INVALID_ARG, known->second.first,
                                            std::string(known->second.second) + " is not valid UTF-8",
                                            "jvs takes text as UTF-8")};
                break;
            }
        }
        throw Failed{make_error(JVS_E_INVALID_ARG, "E_OPTION_INVALID", "an argument is not valid UTF-8",
                                "libjvs takes its arguments as JSON, which must be UTF-8")};
    }
}

std::string Session::write_opts(json o) const {
    if (g.lock_timeout_ms)
        o["lock_timeout_ms"] = *g.lock_timeout_ms;
    return opts(o);
}

// ---- helpers --------------------------------------------------------------------------------

namespace {

Failed usage(std::string_view message, std::string_view hint = {}) {
    return Failed{make_error(JVS_E_INVALID_ARG, "E_OPTION_INVALID", message, hint)};
}

std::string strip_trailing_newlines(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return s;
}

std::string read_note(const std::string &file) {
    if (file == "-") {
        if (isatty(STDIN_FILENO) == 1)
            std::cerr << "Reading the note from stdin (end with Ctrl-D)..." << std::endl;
        std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        return strip_trailing_newlines(std::move(s));
    }
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw usage("cannot read note file '" + file + "': " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    return strip_trailing_newlines(ss.str());
}

std::string error_code(const Failed &f) {
    const json &e = f.doc.contains("error") ? f.doc["error"] : json::object();
    return e.is_object() && e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// The Go tool's fuzzy score (UPSTREAM_FACTS §2.4), used to suggest candidates for `restore -i`.
int fuzzy_score(const json &d, const std::string &q) {
    auto starts = [](const std::string &s, const std::string &p) { return s.compare(0, p.size(), p) == 0; };
    const std::string id = d.value("snapshot_id", "");
    if (id == q)
        return 1000;
    if (starts(id, q))
        return 900;
    const json tags = d.value("tags", json::array());
    for (const json &t : tags)
        if (t.is_string() && t.get<std::string>() == q)
            return 800;
    for (const json &t : tags)
        if (t.is_string() && starts(t.get<std::string>(), q))
            return 700;
    const std::string note = lower(d.value("note", "")), lq = lower(q);
    if (!note.empty() && note == lq)
        return 600;
    if (!note.empty() && starts(note, lq))
        return 500;
    if (!note.empty() && note.find(lq) != std::string::npos)
        return 100;
    if (id.find(q) != std::string::npos)
        return 50;
    return 0;
}

// `restore -i`: the ref did not resolve to one snapshot; list candidates and ask. Returns the
// chosen snapshot id; rethrows `failure` when there is nothing to choose from.
std::string choose_snapshot(Session &s, const std::string &ref, const Failed &failure) {
    jvs_repo *repo = s.repo();
    json all;
    try {
        all = s.call("history", [&](jvs_event_cb, void *, char **o) { return jvs_history(repo, "{\"all\":true}", o); });
    } catch (const Failed &) {
        throw failure;
    }
    const json snaps = all.value("snapshots", json::array());

    std::vector<json> picks;
    const json &details = failure.doc["error"].value("details", json::object());
    if (details.contains("candidates") && details["candidates"].is_array()) {
        for (const json &c : details["candidates"]) {
            std::string id = c.is_string() ? c.get<std::string>() : c.value("snapshot_id", "");
            auto it = std::find_if(snaps.begin(), snaps.end(), [&](const json &d) { return d.value("snapshot_id", "") == id; });
            picks.push_back(it != snaps.end() ? *it : (c.is_object() ? c : json{{"snapshot_id", id}}));
        }
    } else {
        std::vector<std::pair<int, json>> scored;
        for (const json &d : snaps)
            if (int sc = fuzzy_score(d, ref); sc > 0)
                scored.emplace_back(sc, d);
        std::stable_sort(scored.begin(), scored.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
        for (size_t i = 0; i < scored.size() && i < 10; ++i)
            picks.push_back(scored[i].second);
    }
    if (picks.empty())
        throw failure;

    const Output plain; // the list goes to stderr: no stdout colours
    std::cerr << (error_code(failure) == "E_REF_AMBIGUOUS" ? "'" + ref + "' matches several snapshots:"
                                                           : "No snapshot matches '" + ref + "'. Did you mean:")
              << "\n";
    for (size_t i = 0; i < picks.size(); ++i)
        std::cerr << "  " << (i + 1) << ") " << snapshot_line(picks[i], plain) << "\n";
    for (;;) {
        std::cerr << "Restore which snapshot? [1-" << picks.size() << ", 0 to cancel]: " << std::flush;
        std::string answer;
        if (!std::getline(std::cin, answer) || interrupted())
            break;
        answer.erase(0, answer.find_first_not_of(" \t"));
        answer.erase(answer.find_last_not_of(" \t\r") + 1);
        if (answer.empty() || answer == "0" || answer == "cancel" || answer == "q")
            break;
        char *end = nullptr;
        long n = std::strtol(answer.c_str(), &end, 10);
        if (*end == '\0' && n >= 1 && static_cast<size_t>(n) <= picks.size())
            return picks[static_cast<size_t>(n - 1)].value("snapshot_id", "");
        std::cerr << "Please answer a number between 0 and " << picks.size() << ".\n";
    }
    throw Failed{make_error(JVS_E_CANCELLED, "E_CANCELLED", "restore cancelled", "", "restore")};
}

// Forwards a command the library offers only through jvs_call (diff, doctor, gc, config).
int forward(Session &s, const char *method, const json &params, void (*render)(const json &, const Output &) = render_generic) {
    jvs_repo *repo = s.repo();
    const std::string p = Session::opts(params);
    json doc = s.call(method, [&](jvs_event_cb cb, void *ud, char **o) { return jvs_call(repo, method, p.c_str(), cb, ud, o); });
    return s.emit(doc, [&] { render(doc, s.out); });
}

} // namespace

// ---- commands -------------------------------------------------------------------------------

int cmd_init(Session &s, const std::string &arg, int adopt) {
    const std::string path = arg.starts_with('/') ? arg : s.cwd + (s.cwd.ends_with('/') ? "" : "/") + arg;
    json params = json::object();
    if (adopt >= 0) params["adopt"] = adopt == 1;
    const std::string o = Session::opts(params);
    jvs_repo *r = nullptr;
    json doc = s.call("repo_init", [&](jvs_event_cb, void *, char **out) { return jvs_repo_init(path.c_str(), o.c_str(), &r, out); });
    jvs_repo_close(r);
    return s.emit(doc, [&] { render_repo_init(doc, s.out); });
}

int cmd_info(Session &s) {
    jvs_repo *repo = s.repo();
    json doc = s.call("info", [&](jvs_event_cb, void *, char **o) { return jvs_info(repo, nullptr, o); });
    return s.emit(doc, [&] { render_info(doc, s.out); });
}

namespace {
// A tag given again on a new snapshot: `restore <tag>` takes one of them (the newest), which the
// user may not expect. Only the tags given with --tag: config default_tags repeat on purpose.
// Best effort: the snapshot is made, so a failing look-up is silent.
void warn_reused_tags(Session &s, const std::vector<std::string> &tags, const json &doc) {
    const std::string id = doc.value("snapshot", json::object()).value("snapshot_id", "");
    jvs_repo *repo = s.repo();
    for (const std::string &tag : std::set<std::string>(tags.begin(), tags.end())) {
        try {
            const std::string ho = Session::opts({{"all", true}, {"tag", tag}});
            json h = s.call("history", [&](jvs_event_cb, void *, char **o) { return jvs_history(repo, ho.c_str(), o); });
            std::vector<std::string> others;
            for (const json &d : h.value("snapshots", json::array()))
                if (d.value("snapshot_id", "") != id)
                    others.push_back(d.value("snapshot_id", ""));
            if (others.empty())
                continue;
            const std::string ro = Session::opts({{"ref", tag}});
            json r = s.call("resolve", [&](jvs_event_cb, void *, char **o) { return jvs_resolve(repo, ro.c_str(), o); });
            const std::string picked = r.value("snapshot", json::object()).value("snapshot_id", "");
            std::string list;
            for (size_t i = 0; i < others.size() && i < 3; i++)
                list += (i ? ", " : "") + others[i];
            if (others.size() > 3)
                list += ", ...";
            s.out.warn("tag '" + tag + "' is also on " + (others.size() == 1 ? "snapshot " : "snapshots ") + list +
                       "; `jvs restore " + tag + "` picks the newest, " + (picked == id ? "this one (" + id + ")" : picked));
        } catch (const Failed &) {
        }
    }
}
} // namespace

int cmd_snapshot(Session &s, const SnapshotArgs &a) {
    json o = json::object();
    if (a.file && a.note)
        throw usage("give the note either as an argument or with -F/--file, not both");
    if (a.file)
        o["note"] = read_note(*a.file);
    else if (a.note)
        o["note"] = *a.note == "-" ? read_note("-") : *a.note;
    if (!a.tags.empty())
        o["tags"] = a.tags;
    if (!a.paths.empty())
        o["paths"] = a.paths;
    if (a.compress)
        o["compress"] = *a.compress;
    const std::string opts = s.write_opts(o);
    jvs_repo *repo = s.repo();
    json doc = s.call("snapshot", [&](jvs_event_cb cb, void *ud, char **out) { return jvs_snapshot(repo, opts.c_str(), cb, ud, out); });
    const int code = s.emit(doc, [&] { render_snapshot(doc, s.out); });
    warn_reused_tags(s, a.tags, doc);
    return code;
}

int cmd_restore(Session &s, const RestoreArgs &a) {
    jvs_repo *repo = s.repo();
    std::string ref = a.ref;
    if (a.interactive && !s.out.json_mode() && isatty(STDIN_FILENO) == 1 && ref != "HEAD") {
        const std::string ro = Session::opts({{"ref", ref}});
        try {
            s.call("resolve", [&](jvs_event_cb, void *, char **o) { return jvs_resolve(repo, ro.c_str(), o); });
        } catch (const Failed &f) {
            const std::string code = error_code(f);
            if (code != "E_REF_AMBIGUOUS" && code != "E_REF_NOT_FOUND")
                throw;
            ref = choose_snapshot(s, ref, f);
        }
    }
    json o = {{"ref", ref}};
    if (a.dry_run)
        o["dry_run"] = true;
    const std::string opts = s.write_opts(o);
    json doc;
    try {
        doc = s.call("restore", [&](jvs_event_cb cb, void *ud, char **out) { return jvs_restore(repo, opts.c_str(), cb, ud, out); });
    } catch (const Failed &f) {
        // An interrupted restore keeps each file either old or new, but not all of them new.
        if (error_code(f) == "E_CANCELLED" && !a.dry_run)
            s.out.warn("the worktree may be partly restored; run the restore again to finish it");
        throw;
    }
    return s.emit(doc, [&] { render_restore(doc, s.out, a.ref == "HEAD"); });
}

int cmd_history(Session &s, const HistoryArgs &a) {
    json o = json::object();
    if (a.limit)
        o["limit"] = *a.limit;
    if (a.grep)
        o["grep"] = *a.grep;
    if (a.tag)
        o["tag"] = *a.tag;
    if (a.all)
        o["all"] = true;
    const std::string opts = Session::opts(o);
    jvs_repo *repo = s.repo();
    json doc = s.call("history", [&](jvs_event_cb, void *, char **out) { return jvs_history(repo, opts.c_str(), out); });
    return s.emit(doc, [&] { render_history(doc, s.out); });
}

int cmd_verify(Session &s, const VerifyArgs &a) {
    // As in the Go tool, --all wins over a reference.
    const bool single = a.ref && !a.all;
    json o = single ? json{{"ref", *a.ref}} : json{{"all", true}};
    if (a.checksum_only)
        o["payload"] = false;
    const std::string opts = Session::opts(o);
    jvs_repo *repo = s.repo();
    json doc = s.call("verify", [&](jvs_event_cb cb, void *ud, char **out) { return jvs_verify(repo, opts.c_str(), cb, ud, out); });
    s.emit(doc, [&] { render_verify(doc, s.out, single); });
    return doc.value("ok", false) ? kExitOk : kExitCorrupt;
}

int cmd_worktree_create(Session &s, const std::string &name, const std::optional<std::string> &from) {
    json o = {{"name", name}};
    if (from)
        o["from"] = *from;
    const std::string opts = s.write_opts(o);
    jvs_repo *repo = s.repo();
    json doc = s.call("worktree_create",
                      [&](jvs_event_cb cb, void *ud, char **out) { return jvs_worktree_create(repo, opts.c_str(), cb, ud, out); });
    return s.emit(doc, [&] { render_worktree_created(doc, s.out, false); });
}

int cmd_worktree_list(Session &s) {
    jvs_repo *repo = s.repo();
    json doc = s.call("worktree_list", [&](jvs_event_cb, void *, char **out) { return jvs_worktree_list(repo, nullptr, out); });
    return s.emit(doc, [&] { render_worktree_list(doc, s.out, s.current_worktree()); });
}

int cmd_worktree_path(Session &s, const std::optional<std::string> &name) {
    const std::string opts = Session::opts(name ? json{{"name", *name}} : json::object());
    jvs_repo *repo = s.repo();
    json doc = s.call("worktree_path", [&](jvs_event_cb, void *, char **out) { return jvs_worktree_path(repo, opts.c_str(), out); });
    return s.emit(doc, [&] { render_worktree_path(doc, s.out); });
}

int cmd_worktree_rename(Session &s, const std::string &old_name, const std::string &new_name) {
    const std::string opts = s.write_opts({{"name", old_name}, {"new_name", new_name}});
    jvs_repo *repo = s.repo();
    json doc = s.call("worktree_rename", [&](jvs_event_cb, void *, char **out) { return jvs_worktree_rename(repo, opts.c_str(), out); });
    return s.emit(doc, [&] { render_worktree_renamed(doc, s.out, old_name); });
}

int cmd_worktree_remove(Session &s, const std::string &name, bool force) {
    json o = {{"name", name}};
    if (force)
        o["force"] = true;
    const std::string opts = s.write_opts(o);
    jvs_repo *repo = s.repo();
    json doc = s.call("worktree_remove", [&](jvs_event_cb, void *, char **out) { return jvs_worktree_remove(repo, opts.c_str(), out); });
    return s.emit(doc, [&] { render_worktree_removed(doc, s.out); });
}

// fork [ref] [name]. With one argument it is a reference only if it resolves exactly (HEAD,
// latest, full id, exact tag, unique id prefix); anything else is the new worktree's name.
int cmd_worktree_fork(Session &s, const std::optional<std::string> &ref_or_name, const std::optional<std::string> &name) {
    jvs_repo *repo = s.repo();
    json o = json::object();
    if (ref_or_name && name) {
        o["from"] = *ref_or_name;
        o["name"] = *name;
    } else if (ref_or_name) {
        static const char *const ref_rules[] = {"head", "latest", "id", "tag", "id_prefix"};
        const std::string ro = Session::opts({{"ref", *ref_or_name}});
        std::string from;
        try {
            json r = s.call("resolve", [&](jvs_event_cb, void *, char **out) { return jvs_resolve(repo, ro.c_str(), out); });
            const std::string by = r.value("matched_by", "");
            if (std::find(std::begin(ref_rules), std::end(ref_rules), by) != std::end(ref_rules))
                from = r["snapshot"].value("snapshot_id", "");
        } catch (const Failed &) {
            // not a reference: it names the new worktree
        }
        if (!from.empty())
            o["from"] = from;
        else
            o["name"] = *ref_or_name;
    }
    const std::string opts = s.write_opts(o);
    json doc = s.call("worktree_fork",
                      [&](jvs_event_cb cb, void *ud, char **out) { return jvs_worktree_fork(repo, opts.c_str(), cb, ud, out); });
    return s.emit(doc, [&] { render_worktree_created(doc, s.out, true); });
}

int cmd_diff(Session &s, const DiffArgs &a) {
    json p = json::object();
    if (a.from)
        p["from"] = *a.from;
    if (a.to)
        p["to"] = *a.to;
    if (a.stat)
        p["stat"] = true;
    return forward(s, "diff", p, render_diff);
}

// The Go tool's --repair-runtime and our --repair both run the repairs; --repair-list only reports
// (every finding names the repair that fixes it).
int cmd_doctor(Session &s, const DoctorArgs &a) {
    json p = json::object();
    if (a.strict)
        p["strict"] = true;
    if ((a.repair || a.repair_runtime) && !a.repair_list)
        p["repair"] = true;
    if (a.dry_run) {  // the repair plan: what --repair would remove or rebuild, nothing done
        p["repair"] = true;
        p["dry_run"] = true;
    }
    if (a.cache_check)
        p["cache_check"] = *a.cache_check;
    jvs_repo *repo = s.repo();
    const std::string o = Session::opts(p);
    json doc = s.call("doctor", [&](jvs_event_cb cb, void *ud, char **out) { return jvs_call(repo, "doctor", o.c_str(), cb, ud, out); });
    s.emit(doc, [&] { render_doctor(doc, s.out); });
    // Unlike the Go tool, an unhealthy repository fails in --json mode too.
    return doc.value("healthy", false) ? kExitOk : kExitCorrupt;
}

int cmd_gc_plan(Session &s, const GcPlanArgs &a) {
    json p = json::object();
    if (a.keep_last)
        p["keep_last"] = *a.keep_last;
    if (a.keep_within)
        p["keep_within"] = *a.keep_within;
    if (!a.keep_tags.empty())
        p["keep_tags"] = a.keep_tags;
    if (a.keep_min_age)
        p["keep_min_age"] = *a.keep_min_age;
    return forward(s, "gc_plan", p, render_gc);
}

int cmd_gc_pin(Session &s, const PinArgs &a) {
    json p = {{"ref", a.ref}};
    if (a.reason)
        p["reason"] = *a.reason;
    if (a.expires)
        p["expires"] = *a.expires;
    return forward(s, "gc_pin", p, render_gc);
}

int cmd_gc_unpin(Session &s, const std::string &ref) { return forward(s, "gc_unpin", {{"ref", ref}}, render_gc); }
int cmd_gc_pins(Session &s) { return forward(s, "gc_pins", json::object(), render_gc); }
int cmd_gc_run(Session &s, const std::string &plan_id) { return forward(s, "gc_run", {{"plan_id", plan_id}}, render_gc); }
int cmd_config_show(Session &s) { return forward(s, "config_show", json::object(), render_config); }
int cmd_config_get(Session &s, const std::string &key) { return forward(s, "config_get", {{"key", key}}, render_config); }
int cmd_config_set(Session &s, const std::string &key, const std::string &value) {
    return forward(s, "config_set", {{"key", key}, {"value", value}}, render_config_change);
}
int cmd_config_unset(Session &s, const std::string &key) {
    return forward(s, "config_unset", {{"key", key}}, render_config_change);
}

// ---- completion candidates ------------------------------------------------------------------

namespace {
std::vector<std::string> complete_candidates(Session &s, const std::string &kind) {
    jvs_repo *repo = s.repo();
    std::vector<std::string> out;
    if (kind == "refs" || kind == "tags") {
        const std::string o = Session::opts({{"all", true}});
        json doc = s.call("history", [&](jvs_event_cb, void *, char **r) { return jvs_history(repo, o.c_str(), r); });
        if (kind == "refs")
            out.push_back("HEAD");
        for (const json &d : doc.value("snapshots", json::array())) {
            for (const json &t : d.value("tags", json::array()))
                if (t.is_string())
                    out.push_back(t.get<std::string>());
            if (kind == "refs" && d.contains("snapshot_id") && d["snapshot_id"].is_string())
                out.push_back(d["snapshot_id"].get<std::string>());
        }
    } else if (kind == "worktrees") {
        json doc = s.call("worktree_list", [&](jvs_event_cb, void *, char **r) { return jvs_worktree_list(repo, nullptr, r); });
        for (const json &w : doc.value("worktrees", json::array()))
            if (w.contains("name") && w["name"].is_string())
                out.push_back(w["name"].get<std::string>());
    } else if (kind == "config-keys") {
        json doc = s.call("config_show", [&](jvs_event_cb, void *, char **r) { return jvs_call(repo, "config_show", nullptr, nullptr, nullptr, r); });
        for (const json &k : doc.value("keys", json::array()))
            if (k.is_string())
                out.push_back(k.get<std::string>());
    }
    std::sort(out.begin() + (kind == "refs" ? 1 : 0), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}
} // namespace

int cmd_complete(Session &s, const std::string &kind) {
    std::vector<std::string> words;
    try {
        words = complete_candidates(s, kind);
    } catch (const Failed &) {
        return kExitOk; // outside a repository there is nothing to offer, and nothing to complain about
    }
    for (const std::string &w : words)
        std::printf("%s\n", w.c_str());
    return kExitOk;
}

} // namespace jvs_cli
