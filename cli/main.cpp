// main.cpp -- the jvs command line: global flags, the command tree (CLI11), Ctrl-C, dispatch.
// Everything goes through the C ABI in jvs.h; commands.cpp calls it, output.cpp prints.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "completion.hpp"
#include "did_you_mean.hpp"
#include "jvs.h"
#include "output.hpp"

namespace jvs_cli {

// ---- Ctrl-C ---------------------------------------------------------------------------------
// The first SIGINT interrupts the running libjvs call (it then fails with E_CANCELLED and we
// exit 130); the second exits at once.

namespace {
std::atomic<jvs_repo *> g_interrupt_target{nullptr};
volatile std::sig_atomic_t g_sigints = 0;
bool g_stderr_tty = false;

extern "C" void on_sigint(int) {
    g_sigints = g_sigints + 1;
    if (g_sigints >= 2)
        _exit(kExitCancelled);
    if (jvs_repo *r = g_interrupt_target.load())
        jvs_repo_interrupt(r);
    if (g_stderr_tty) {
        static const char msg[] = "\r\033[Kjvs: interrupting... (press Ctrl-C again to quit at once)\n";
        [[maybe_unused]] ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    }
}

void install_sigint_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: a prompt waiting on stdin sees EINTR
    sigaction(SIGINT, &sa, nullptr);
}
} // namespace

void set_interrupt_target(jvs_repo *repo) { g_interrupt_target.store(repo); }
bool interrupted() { return g_sigints > 0; }

namespace {

// ---- working directory ----------------------------------------------------------------------

bool same_dir(const std::string &a, const char *b) {
    struct stat sa {}, sb {};
    return stat(a.c_str(), &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// Like Go's os.Getwd: keep $PWD (a logical path through symlinks) when it names the current
// directory, else the physical path.
std::string logical_cwd() {
    const char *pwd = std::getenv("PWD");
    if (pwd != nullptr && pwd[0] == '/' && same_dir(pwd, "."))
        return pwd;
    std::error_code ec;
    return std::filesystem::current_path(ec).string();
}

// -C <dir>: chdir there; returns the directory the command runs in.
std::string enter_dir(const std::string &dir) {
    std::string start = logical_cwd();
    if (dir.empty())
        return start;
    std::filesystem::path target = dir;
    if (target.is_relative())
        target = std::filesystem::path(start) / target;
    target = target.lexically_normal();
    if (chdir(target.c_str()) != 0) {
        const int err = errno;
        throw Failed{make_error(err == ENOENT ? JVS_E_NOT_FOUND : JVS_E_IO, err == ENOENT ? "E_PATH_NOT_FOUND" : "E_IO",
                                "cannot change to directory '" + dir + "': " + std::strerror(err))};
    }
    std::string t = target.string();
    if (t.size() > 1 && t.back() == '/')
        t.pop_back();
    if (same_dir(t, "."))
        return t;
    std::error_code ec;
    return std::filesystem::current_path(ec).string();
}

bool argv_has(int argc, char **argv, const char *flag) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0)
            return false;
        if (std::strcmp(argv[i], flag) == 0)
            return true;
    }
    return false;
}

// The innermost subcommand the command line selected (the app itself when none).
const CLI::App *deepest_command(const CLI::App &app) {
    const CLI::App *cur = &app;
    for (;;) {
        auto subs = cur->get_subcommands();
        if (subs.empty())
            return cur;
        cur = subs.front();
    }
}

int print_version(const Output &out) {
    if (out.json_mode()) {
        char *text = nullptr;
        jvs_status st = jvs_build_info(&text);
        json doc = parse_document(st, text, "build_info");
        jvs_free(text);
        if (st != JVS_OK)
            return out.report_error(doc);
        out.print_json(doc);
    } else {
        std::printf("jvs %s (abi %u)\n", jvs_version_string(), jvs_abi_version());
    }
    return kExitOk;
}

constexpr const char *kFooter = R"(
Exit codes: 0 ok, 1 other error, 2 usage or invalid input, 3 not found, 4 locked,
5 corrupt or verification failed, 6 conflict or already exists, 130 cancelled.
With --json every result and every error is a JSON document on stdout
({"schema":1,"kind":...}); usage errors carry the code E_USAGE.)";

constexpr const char *kForkHelp = R"(
With two arguments: [ref] [name]. With one argument, it is taken as a snapshot
reference only if it names one exactly -- HEAD, a full id, an exact tag or a
unique id prefix; otherwise (including a tag/note prefix match) it is the new
worktree's name and the fork starts from the current head.
Without a name the library picks fork-<id suffix>.)";

constexpr const char *kHistoryHelp = R"(
Each line: <full snapshot id>  <local date and time>  <note>  [tags]  [HEAD].
The full id is printed (the Go tool's 8-character short id is ambiguous);
any unique prefix of it works as a reference. [HEAD] marks the worktree's
latest snapshot when the worktree stands on it; a detached worktree (after a
restore of an older snapshot) gets a "you are here" line below its position.)";

constexpr const char *kRestoreHelp = R"(
<ref> is HEAD (the worktree's latest snapshot), a snapshot id, an exact tag,
or a unique prefix of an id, a tag or a note; <ref>~N goes N parents back.
Restoring anything but the latest snapshot leaves the worktree detached:
fork from it (jvs worktree fork <name>) or go back with jvs restore HEAD.
Files not in the snapshot are removed; the worktree directory itself stays.)";

} // namespace

// The command tree: global flags, every command's arguments and the action each leaf runs.
class CommandLine {
public:
    using Action = std::function<int(Session &)>;

    CommandLine() {
        app.fallthrough(); // global flags are accepted after the subcommand too
        app.add_flag("--json", g.json, "Print JSON documents on stdout (errors included)");
        app.add_flag("--text", g.text, "Print text even if the repository's config sets output_format: json");
        app.add_flag("--debug", g.debug, "Show error details");
        app.add_flag("--no-progress", g.no_progress, "Do not draw progress bars");
        app.add_flag("--no-color", g.no_color, "Do not colour the output");
        app.add_flag("--version", g.version, "Print the version and exit");
        completes(app.add_option("-C", g.dir, "Run as if jvs was started in <dir>")->type_name("DIR"), "dirs");
        app.add_option("--lock-timeout", g.lock_timeout_ms,
                       "How long a writer waits for the worktree lock (default 30000; 0 = fail at once)")
            ->type_name("MS");
        add_snapshot_commands();
        add_worktree_commands();
        add_maintenance_commands();
        app.footer(kFooter); // after the subcommands: CLI11 copies a parent's footer into each new one
    }
    CommandLine(const CommandLine &) = delete;
    CommandLine &operator=(const CommandLine &) = delete;

    Globals g;
    CLI::App app{"jvs -- workspace versioning: snapshot, restore, fork and verify a real directory", "jvs"};

    // The selected leaf command's action; nullptr when none was given.
    const Action *selected() const {
        auto it = actions_.find(deepest_command(app));
        return it == actions_.end() ? nullptr : &it->second;
    }

    // `completion` needs no repository, so it runs without a Session.
    bool completion_selected() const { return deepest_command(app) == completion_; }
    std::string completion_script() const {
        if (value_ == "powershell")
            return powershell_completion(app, kinds_);
        return value_ == "bash"  ? bash_completion(app, kinds_)
               : value_ == "zsh" ? zsh_completion(app, kinds_)
                                 : fish_completion(app, kinds_);
    }

private:
    // Records what the option's value completes to (completion.hpp: refs, tags, worktrees, ...).
    CLI::Option *completes(CLI::Option *o, const char *kind) {
        kinds_[o] = kind;
        return o;
    }

    CLI::App *command(CLI::App *parent, const char *name, const char *help, Action fn) {
        CLI::App *sc = parent->add_subcommand(name, help);
        actions_[sc] = std::move(fn);
        return sc;
    }

    void add_snapshot_commands() {
        CLI::App *init = command(&app, "init",
            "Create a repository at PATH (default: here); an existing folder with files is adopted in place",
            [this](Session &s) { return cmd_init(s, init_path_, init_adopt_ ? 1 : init_no_adopt_ ? 0 : -1); });
        init->add_option("path", init_path_, "Directory (created if missing; a bare name is ./name)");
        CLI::Option *adopt = init->add_flag("--adopt", init_adopt_,
            "Make the directory itself the main worktree, even when empty (files keep their paths)");
        init->add_flag("--no-adopt", init_no_adopt_,
            "Use the Go tool's layout (worktree in PATH/main) even for a folder with files")->excludes(adopt);

        command(&app, "info", "Show repository information", [](Session &s) { return cmd_info(s); });

        CLI::App *snapshot = command(&app, "snapshot", "Snapshot the current worktree", [this](Session &s) {
            return cmd_snapshot(s, snap_);
        });
        snapshot->add_option("note", snap_.note, "Note ('-' reads it from stdin)");
        // One value per flag, as the Go tool's string slices take them (`--paths a,b` or `--paths a
        // --paths b`): a positional note after the flag stays the note.
        completes(snapshot->add_option("--tag", snap_.tags, "Tag (repeatable, comma-separated)")->delimiter(',')->allow_extra_args(false),
                  "tags");
        completes(snapshot->add_option("--paths", snap_.paths, "Snapshot only these paths (repeatable, comma-separated)")
                      ->delimiter(',')
                      ->allow_extra_args(false),
                  "files");
        completes(snapshot->add_option("-F,--file", snap_.file, "Read the note from a file ('-' = stdin)"), "files");
        snapshot->add_option("--compress", snap_.compress,
                             "Compression: only none is accepted (snapshots are stored uncompressed)")
            ->type_name("none");
        kinds_[snapshot->get_option("--compress")] = "words:none";

        CLI::App *restore = command(&app, "restore", "Restore the worktree in place to a snapshot", [this](Session &s) {
            return cmd_restore(s, restore_);
        });
        restore->footer(kRestoreHelp);
        completes(restore->add_option("ref", restore_.ref, "Snapshot reference")->required(), "refs");
        restore->add_flag("-i,--interactive", restore_.interactive,
                          "Choose among candidates when the reference is ambiguous or unknown (on a terminal)");
        restore->add_flag("--dry-run", restore_.dry_run, "Print what would change; change nothing");

        CLI::App *history = command(&app, "history", "Show the snapshot history of the current worktree (newest first)",
                                    [this](Session &s) { return cmd_history(s, history_); });
        history->footer(kHistoryHelp);
        history->add_option("-n,--limit", history_.limit, "Show at most N snapshots (0 = all)");
        history->add_option("-g,--grep", history_.grep, "Only snapshots whose note contains this text");
        completes(history->add_option("--tag", history_.tag, "Only snapshots carrying this tag"), "tags");
        history->add_flag("--all", history_.all, "All snapshots of the repository, not just this lineage");

        CLI::App *verify = command(&app, "verify", "Verify snapshot integrity (checksum and payload hash)",
                                   [this](Session &s) { return cmd_verify(s, verify_); });
        completes(verify->add_option("ref", verify_.ref, "Snapshot to verify (default: all)"), "refs");
        verify->add_flag("--all", verify_.all, "Verify every snapshot");
        verify->add_flag("--checksum-only", verify_.checksum_only,
                         "Fast: descriptor checksums and .READY markers only, no payload hashing");
    }

    void add_worktree_commands() {
        CLI::App *wt = app.add_subcommand("worktree", "Manage worktrees");
        wt->alias("wt");
        wt->require_subcommand(1);

        CLI::App *create = command(wt, "create", "Create a worktree (empty, or a copy of a snapshot)",
                                   [this](Session &s) { return cmd_worktree_create(s, wt_name_, wt_from_); });
        create->add_option("name", wt_name_, "New worktree name")->required();
        completes(create->add_option("--from", wt_from_, "Snapshot to start from"), "refs");

        command(wt, "list", "List worktrees (* marks the current one)", [](Session &s) { return cmd_worktree_list(s); });

        CLI::App *path = command(wt, "path", "Print a worktree's path (default: the current one)", [this](Session &s) {
            return cmd_worktree_path(s, wt_opt_name_);
        });
        completes(path->add_option("name", wt_opt_name_, "Worktree name"), "worktrees");

        CLI::App *rename = command(wt, "rename", "Rename a worktree",
                                   [this](Session &s) { return cmd_worktree_rename(s, wt_name_, wt_new_name_); });
        completes(rename->add_option("old", wt_name_, "Current name")->required(), "worktrees");
        rename->add_option("new", wt_new_name_, "New name")->required();

        CLI::App *remove = command(wt, "remove", "Remove a worktree (its snapshots are kept)",
                                   [this](Session &s) { return cmd_worktree_remove(s, wt_name_, wt_force_); });
        completes(remove->add_option("name", wt_name_, "Worktree name")->required(), "worktrees");
        remove->add_flag("-f,--force", wt_force_, "Remove even when detached");

        CLI::App *fork = command(wt, "fork", "Create a new worktree from a snapshot (default: the current head)",
                                 [this](Session &s) { return cmd_worktree_fork(s, wt_from_, wt_opt_name_); });
        fork->footer(kForkHelp);
        completes(fork->add_option("ref", wt_from_, "Snapshot to fork from, or (alone) the new name; see below"), "refs");
        fork->add_option("name", wt_opt_name_, "New worktree name");
    }

    // Commands the library offers through jvs_call only (plus completion, which is ours).
    void add_maintenance_commands() {
        CLI::App *diff = command(&app, "diff", "Compare two snapshots, or a snapshot with the worktree's unsaved files",
                                 [this](Session &s) { return cmd_diff(s, diff_); });
        completes(diff->add_option("from", diff_.from, "Older snapshot (default: HEAD)"), "refs");
        completes(diff->add_option("to", diff_.to, "Newer snapshot (default: the live worktree)"), "refs");
        diff->add_flag("--stat", diff_.stat, "Only counts");

        CLI::App *doctor = command(&app, "doctor", "Check repository health", [this](Session &s) {
            return cmd_doctor(s, doctor_);
        });
        doctor->add_flag("--strict", doctor_.strict, "Also verify every snapshot and the audit chain");
        doctor->add_flag("--repair", doctor_.repair, "Repair what is provably stale (never in-flight work or user files)");
        doctor->add_flag("--repair-runtime", doctor_.repair_runtime, "Same as --repair (the Go tool's name)");
        doctor->add_flag("--repair-list", doctor_.repair_list, "Only list findings and the repair each needs");
        doctor->add_flag("--dry-run", doctor_.dry_run,
                         "With --repair: list every repair and what it would remove or rebuild; change nothing");
        doctor->add_option("--cache-check", doctor_.cache_check,
                           "With --strict: check stat cache entries against their files: sample (default), all, none")
            ->check(CLI::IsMember({"sample", "all", "none"}));
        kinds_[doctor->get_option("--cache-check")] = "words:sample all none";

        CLI::App *gc = app.add_subcommand("gc", "Garbage-collect unreachable snapshots");
        gc->require_subcommand(1);
        CLI::App *plan = command(gc, "plan", "Plan a collection", [this](Session &s) { return cmd_gc_plan(s, gc_plan_); });
        plan->add_option("--keep-last", gc_plan_.keep_last, "Also keep the N newest snapshots");
        plan->add_option("--keep-within", gc_plan_.keep_within, "Also keep snapshots newer than this (30m, 24h, 7d, 2w)");
        completes(plan->add_option("--keep-tag", gc_plan_.keep_tags, "Also keep snapshots with a tag starting with this (repeatable)"),
                  "tags");
        plan->add_option("--keep-min-age", gc_plan_.keep_min_age,
                         "Never collect snapshots younger than this (default 24h, config retention.keep_min_age; 0 = no minimum)");
        CLI::App *pin = command(gc, "pin", "Protect a snapshot from collection", [this](Session &s) { return cmd_gc_pin(s, pin_); });
        completes(pin->add_option("ref", pin_.ref, "Snapshot to pin")->required(), "refs");
        pin->add_option("--reason", pin_.reason, "Why it is pinned");
        pin->add_option("--expires", pin_.expires, "When the pin lapses (RFC 3339 time or a duration like 7d)");
        completes(command(gc, "unpin", "Remove a pin", [this](Session &s) { return cmd_gc_unpin(s, key_); })
                      ->add_option("ref", key_, "Pinned snapshot")
                      ->required(),
                  "refs");
        command(gc, "pins", "List pins", [](Session &s) { return cmd_gc_pins(s); });
        command(gc, "run", "Run a collection plan", [this](Session &s) { return cmd_gc_run(s, key_); })
            ->add_option("--plan-id", key_, "Plan to run")
            ->required();

        CLI::App *config = app.add_subcommand("config", "Show or change repository configuration");
        config->require_subcommand(1);
        command(config, "show", "Show the configuration", [](Session &s) { return cmd_config_show(s); });
        completes(command(config, "get", "Print one setting", [this](Session &s) { return cmd_config_get(s, key_); })
                      ->add_option("key", key_, "Setting name")
                      ->required(),
                  "config-keys");
        CLI::App *set = command(config, "set", "Change one setting",
                                [this](Session &s) { return cmd_config_set(s, key_, value_); });
        completes(set->add_option("key", key_, "Setting name")->required(), "config-keys");
        set->add_option("value", value_, "New value (lists: a,b)")->required();
        CLI::App *unset = command(config, "unset", "Remove one setting (back to the default)", [this](Session &s) {
            return cmd_config_unset(s, key_);
        });
        completes(unset->add_option("key", key_, "Setting name")->required(), "config-keys");

        CLI::App *completion =
            app.add_subcommand("completion", "Print a shell completion script (bash, zsh, fish or powershell)");
        completes(completion->add_option("shell", value_, "bash|zsh|fish|powershell")
                      ->required()
                      ->check(CLI::IsMember({"bash", "zsh", "fish", "powershell"})),
                  "words:bash zsh fish powershell");
        completion_ = completion;

        // Hidden (no group): what the completion scripts ask for refs, tags, worktree names and
        // config keys, one per line; it prints nothing when there is no repository.
        CLI::App *complete = command(&app, "__complete", "Completion candidates", [this](Session &s) {
            return cmd_complete(s, value_);
        });
        complete->group("");
        complete->add_option("kind", value_, "refs|tags|worktrees|config-keys")
            ->required()
            ->check(CLI::IsMember(dynamic_kinds()));
    }

    std::map<const CLI::App *, Action> actions_;
    ValueKinds kinds_;
    const CLI::App *completion_ = nullptr;

    // Parsed arguments (CLI11 writes here; the actions read them).
    std::string init_path_ = ".";
    bool init_adopt_ = false, init_no_adopt_ = false;
    SnapshotArgs snap_;
    RestoreArgs restore_;
    HistoryArgs history_;
    VerifyArgs verify_;
    DiffArgs diff_;
    DoctorArgs doctor_;
    GcPlanArgs gc_plan_;
    PinArgs pin_;
    std::string wt_name_, wt_new_name_;
    std::optional<std::string> wt_from_, wt_opt_name_;
    bool wt_force_ = false;
    std::string key_, value_;
};

int run(int argc, char **argv) {
    Output out;
    g_stderr_tty = isatty(STDERR_FILENO) == 1;
    out.configure(argv_has(argc, argv, "--json"), argv_has(argc, argv, "--no-color"), false);

    CommandLine cli;
    try {
        cli.app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        // An unknown command or flag fails with a suggestion, --help or not: CLI11 answers --help
        // before it looks at the other words, so `jvs nosuchcmd --help` would print the top-level
        // help and exit 0 (the Go tool exits 1).
        if (json misspelt = misspelt_error(cli.app, argc, argv); !misspelt.is_null())
            return out.report_error(misspelt);
        if (e.get_exit_code() == 0)
            return cli.app.exit(e); // --help
        const std::string path = command_path(deepest_command(cli.app));
        const std::string hint = "see 'jvs " + (path.empty() ? "" : path + " ") + "--help'";
        return out.report_error(make_error(JVS_E_INVALID_ARG, "E_USAGE", e.what(), hint));
    }
    const Globals &g = cli.g;
    out.configure(g.json, g.no_color, g.debug);

    if (g.version)
        return print_version(out);
    if (cli.completion_selected()) {
        std::cout << cli.completion_script();
        return kExitOk;
    }
    const CommandLine::Action *action = cli.selected();
    if (action == nullptr) {
        std::cout << cli.app.help();
        return kExitOk;
    }

    try {
        install_sigint_handler();
        Session session(g, out, enter_dir(g.dir));
        const int code = (*action)(session);
        std::fflush(stdout);
        return code;
    } catch (const Failed &f) {
        return out.report_error(f.doc);
    }
}

} // namespace jvs_cli

int main(int argc, char **argv) {
    try {
        return jvs_cli::run(argc, argv);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "jvs: internal error: %s [E_INTERNAL]\n", e.what());
        return jvs_cli::kExitError;
    }
}
