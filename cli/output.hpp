// output.hpp -- everything the jvs CLI prints: JSON, text renderings, colour, the progress bar,
// error reports and the exit-code table. No libjvs calls except jvs_status_name().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace jvs_cli {

// Keeps the library's key order when a document is re-printed.
using json = nlohmann::ordered_json;

// CLI exit codes (docs/ARCHITECTURE.md, "CLI exit codes").
enum ExitCode : int {
    kExitOk = 0,
    kExitError = 1,
    kExitUsage = 2,
    kExitNotFound = 3,
    kExitLocked = 4,
    kExitCorrupt = 5,
    kExitConflict = 6,
    kExitCancelled = 130,
};

// Maps an error document ({"kind":"error","error":{"status":...}}) to an exit code.
int exit_code_for(const json &error_doc);

// Builds an error document the CLI itself raises (usage errors, unreadable -F file, ...), shaped
// exactly like the library's. `status` is a JVS_E_* value.
json make_error(int status, std::string_view code, std::string_view message, std::string_view hint = {},
                std::string_view op = "cli");

// Parses a document returned by libjvs. A NULL or unparseable document becomes an error
// document (E_NOMEM / E_INTERNAL) so callers always get something to report.
json parse_document(int status, const char *text, std::string_view op);

enum class Color { Red, Green, Yellow, Blue, Magenta, Cyan, Bold, Dim };

class Output {
public:
    // Decides colour per stream: a terminal, NO_COLOR unset, TERM != dumb, no --no-color.
    void configure(bool json_mode, bool no_color, bool debug);

    bool json_mode() const { return json_mode_; }
    bool debug() const { return debug_; }

    // Pretty JSON (2-space indent, trailing newline) on stdout.
    void print_json(const json &doc) const;

    // Colour helpers: return `text` wrapped in ANSI codes when that stream is coloured.
    std::string paint(std::string_view text, Color c) const;     // stdout
    std::string paint_err(std::string_view text, Color c) const; // stderr

    // Reports an error document (stdout JSON in --json mode, else `jvs: ...` on stderr) and
    // returns the exit code for it.
    int report_error(const json &error_doc) const;

    // "warning: ..." on stderr (in --json mode too: stderr never carries JSON).
    void warn(std::string_view message) const;
    // Every entry of a result document's `warnings` ([{code, message}]).
    void warn_all(const json &doc) const;

private:
    bool json_mode_ = false;
    bool debug_ = false;
    bool color_out_ = false;
    bool color_err_ = false;
};

// One-line progress bar on stderr, fed by the library's progress events (progress.cpp). Draws only
// when enabled (stderr is a TTY, no --no-progress, no --json); clear() erases it.
class ProgressBar {
public:
    void enable(bool on) { enabled_ = on; }
    void update(const json &progress_event);
    void clear();

private:
    bool enabled_ = false;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_draw_{};
    std::string phase_key_;                            // "op/phase" of the phase being drawn
    std::chrono::steady_clock::time_point phase_start_{};
};

// The progress line for one event at `columns` terminal columns (what update() draws), given the
// seconds since its phase started (for the ETA). Whole segments are dropped when the line would not
// fit; nothing is ever cut in the middle.
std::string progress_line(const json &progress_event, int columns, double elapsed_seconds);

// ---- text renderings (one per document kind) ------------------------------------------------
std::string local_time(std::string_view rfc3339); // "YYYY-MM-DD HH:MM" in the local time zone
std::string human_bytes(std::uint64_t n);

// `<id>  <date>  <note or (no note)>  [tags]` for a descriptor object.
std::string snapshot_line(const json &descriptor, const Output &out);

void render_repo_init(const json &doc, const Output &out);
void render_info(const json &doc, const Output &out);
void render_snapshot(const json &doc, const Output &out);
void render_restore(const json &doc, const Output &out, bool ref_was_head);
void render_history(const json &doc, const Output &out);
void render_verify(const json &doc, const Output &out, bool single);
void render_worktree_created(const json &doc, const Output &out, bool forked);
void render_worktree_list(const json &doc, const Output &out, std::string_view current);
void render_worktree_path(const json &doc, const Output &out);
void render_worktree_renamed(const json &doc, const Output &out, std::string_view old_name);
void render_worktree_removed(const json &doc, const Output &out);
void render_config(const json &doc, const Output &out);        // config show / config get
void render_config_change(const json &doc, const Output &out); // config set / config unset
void render_diff(const json &doc, const Output &out);
void render_doctor(const json &doc, const Output &out);
void render_gc(const json &doc, const Output &out);      // gc plan, run, pin, unpin, pins
void render_generic(const json &doc, const Output &out); // for documents we have no layout for

} // namespace jvs_cli
