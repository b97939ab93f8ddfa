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

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "completion.hpp"
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

const CLI::App *deepest_command(const CLI::App &app) {
    const CLI::App *cur = &app;
    for (;;) {
        auto subs = cur->get_subcommands();
        if (subs.empty())
            return cur;
        cur = subs.front();
    }
}

std::string command_path(const CLI::App *app) {
    std::string path;
    for (const CLI::App *a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent())
        path = a->get_name() + (path.empty() ? "" : " " + path);
    return path;
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
latest snapshot; "you are here" follows the current position.)";

constexpr const char *kRestoreHelp = R"(
<ref> is HEAD (the worktree's latest snapshot), a snapshot id, an exact tag,
or a unique prefix of an id, a tag or a note; <ref>~N goes N parents back.
Restoring anything but the latest snapshot leaves the worktree detached:
fork from it (jvs worktree fork <name>) or go back with jvs restore HEAD.
Files not in the snapshot are removed; the worktree directory itself stays.)";

} // namespace

int run(int argc, char **argv) {
    Globals g;
    Output out;
    g_stderr_tty = isatty(STDERR_FILENO) == 1;
    out.configure(argv_has(argc, argv, "--json"), argv_has(argc, argv, "--no-color"), false);

    CLI::App app{"jvs -- workspace versioning: snapshot, restore, fork and verify a real directory", "jvs"};
    app.fallthrough(); // global flags are accepted after the subcommand too
    app.footer(kFooter);
    app.add_flag("--json", g.json, "Print JSON documents on stdout (errors included)");
    app.add_flag("--debug", g.debug, "Show error details");
    app.add_flag("--no-progress", g.no_progress, "Do not draw progress bars");
    app.add_flag("--no-color", g.no_color, "Do not colour the output");
    app.add_flag("--version", g.version, "Print the version and exit");
    app.add_option("-C", g.dir, "Run as if jvs was started in <dir>")->type_name("DIR");

    // Every leaf command registers the action to run when it is the one selected.
    std::map<const CLI::App *, std::function<int(Session &)>> actions;
    auto command = [&](CLI::App *parent, const char *name, const char *help, std::function<int(Session &)> fn) {
        CLI::App *sc = parent->add_subcommand(name, help);
        actions[sc] = std::move(fn);
        return sc;
    };

    std::string init_name;
    command(&app, "init", "Create a repository in ./<name> (payload in <name>/main)", [&](Session &s) {
        return cmd_init(s, init_name);
    })->add_option("name", init_name, "Repository directory name")->required();

    command(&app, "info", "Show repository information", [](Session &s) { return cmd_info(s); });

    SnapshotArgs snap;
    CLI::App *snapshot = command(&app, "snapshot", "Snapshot the current worktree", [&](Session &s) {
        return cmd_snapshot(s, snap);
    });
    snapshot->add_option("note", snap.note, "Note ('-' reads it from stdin)");
    snapshot->add_option("--tag", snap.tags, "Tag (repeatable, comma-separated)")->delimiter(',');
    snapshot->add_option("--paths", snap.paths, "Snapshot only these paths (repeatable, comma-separated)")->delimiter(',');
    snapshot->add_option("-F,--file", snap.file, "Read the note from a file ('-' = stdin)");
    snapshot->add_option("--compress", snap.compress, "Compression: none|fast|default|max|0|1|6|9 (only none is supported)");

    RestoreArgs rest;
    CLI::App *restore = command(&app, "restore", "Restore the worktree in place to a snapshot", [&](Session &s) {
        return cmd_restore(s, rest);
    });
    restore->footer(std::string(kRestoreHelp) + "\n" + kFooter);
    restore->add_option("ref", rest.ref, "Snapshot reference")->required();
    restore->add_flag("-i,--interactive", rest.interactive, "Choose among candidates when the reference is ambiguous or unknown");
    restore->add_flag("--dry-run", rest.dry_run, "Print what would change; change nothing");

    HistoryArgs hist;
    CLI::App *history = command(&app, "history", "Show the snapshot history of the current worktree (newest first)", [&](Session &s) { return cmd_history(s, hist); });
    history->footer(std::string(kHistoryHelp) + "\n" + kFooter);
    history->add_option("-n,--limit", hist.limit, "Show at most N snapshots (0 = all)");
    history->add_option("-g,--grep", hist.grep, "Only snapshots whose note contains this text");
    history->add_option("--tag", hist.tag, "Only snapshots carrying this tag");
    history->add_flag("--all", hist.all, "All snapshots of the repository, not just this lineage");

    DiffArgs diffa;
    CLI::App *diff = command(&app, "diff", "Compare two snapshots", [&](Session &s) { return cmd_diff(s, diffa); });
    diff->add_option("from", diffa.from, "Older snapshot");
    diff->add_option("to", diffa.to, "Newer snapshot");
    diff->add_flag("--stat", diffa.stat, "Only counts");

    VerifyArgs ver;
    CLI::App *verify = command(&app, "verify", "Verify snapshot integrity (checksum and payload hash)", [&](Session &s) {
        return cmd_verify(s, ver);
    });
    verify->add_option("ref", ver.ref, "Snapshot to verify (default: all)");
    verify->add_flag("--all", ver.all, "Verify every snapshot");

    DoctorArgs doc;
    CLI::App *doctor = command(&app, "doctor", "Check repository health", [&](Session &s) { return cmd_doctor(s, doc); });
    doctor->add_flag("--strict", doc.strict, "Also verify every snapshot and the audit chain");
    doctor->add_flag("--repair-runtime", doc.repair_runtime, "Clean temporary files and stale intents");
    doctor->add_flag("--repair-list", doc.repair_list, "List the available repairs");

    CLI::App *gc = app.add_subcommand("gc", "Garbage-collect unreachable snapshots");
    gc->require_subcommand(1);
    command(gc, "plan", "Plan a collection", [](Session &s) { return cmd_gc_plan(s); });
    std::string plan_id;
    command(gc, "run", "Run a collection plan", [&](Session &s) { return cmd_gc_run(s, plan_id); })
        ->add_option("--plan-id", plan_id, "Plan to run")
        ->required();

    CLI::App *wt = app.add_subcommand("worktree", "Manage worktrees");
    wt->alias("wt");
    wt->require_subcommand(1);
    std::string wt_name, wt_new;
    std::optional<std::string> wt_from, wt_opt_name;
    bool wt_force = false;
    std::optional<std::string> fork_ref, fork_name;
    CLI::App *create = command(wt, "create", "Create a worktree (empty, or a copy of a snapshot)", [&](Session &s) {
        return cmd_worktree_create(s, wt_name, wt_from);
    });
    create->add_option("name", wt_name, "New worktree name")->required();
    create->add_option("--from", wt_from, "Snapshot to start from");
    command(wt, "list", "List worktrees (* marks the current one)", [](Session &s) { return cmd_worktree_list(s); });
    command(wt, "path", "Print a worktree's path (default: the current one)", [&](Session &s) {
        return cmd_worktree_path(s, wt_opt_name);
    })->add_option("name", wt_opt_name, "Worktree name");
    CLI::App *rename = command(wt, "rename", "Rename a worktree", [&](Session &s) {
        return cmd_worktree_rename(s, wt_name, wt_new);
    });
    rename->add_option("old", wt_name, "Current name")->required();
    rename->add_option("new", wt_new, "New name")->required();
    CLI::App *remove = command(wt, "remove", "Remove a worktree (its snapshots are kept)", [&](Session &s) {
        return cmd_worktree_remove(s, wt_name, wt_force);
    });
    remove->add_option("name", wt_name, "Worktree name")->required();
    remove->add_flag("-f,--force", wt_force, "Remove even when detached");
    CLI::App *fork = command(wt, "fork", "Create a new worktree from a snapshot (default: the current head)", [&](Session &s) {
        return cmd_worktree_fork(s, fork_ref, fork_name);
    });
    fork->footer(std::string(kForkHelp) + "\n" + kFooter);
    fork->add_option("ref", fork_ref, "Snapshot to fork from, or (alone) the new name; see below");
    fork->add_option("name", fork_name, "New worktree name");

    CLI::App *config = app.add_subcommand("config", "Show or change repository configuration");
    config->require_subcommand(1);
    std::string cfg_key, cfg_value;
    command(config, "show", "Show the configuration", [](Session &s) { return cmd_config_show(s); });
    command(config, "get", "Print one setting", [&](Session &s) { return cmd_config_get(s, cfg_key); })
        ->add_option("key", cfg_key, "Setting name")
        ->required();
    CLI::App *cfg_set = command(config, "set", "Change one setting", [&](Session &s) {
        return cmd_config_set(s, cfg_key, cfg_value);
    });
    cfg_set->add_option("key", cfg_key, "Setting name")->required();
    cfg_set->add_option("value", cfg_value, "New value")->required();

    std::string shell;
    CLI::App *completion = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
    completion->add_option("shell", shell, "bash|zsh|fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        if (e.get_exit_code() == 0)
            return app.exit(e); // --help
        const std::string path = command_path(deepest_command(app));
        return out.report_error(make_error(JVS_E_INVALID_ARG, "E_USAGE", e.what(),
                                           "see 'jvs " + (path.empty() ? "" : path + " ") + "--help'"));
    }
    out.configure(g.json, g.no_color, g.debug);

    if (g.version)
        return print_version(out);
    const CLI::App *selected = deepest_command(app);
    if (selected == completion) {
        std::cout << (shell == "bash" ? bash_completion(app) : shell == "zsh" ? zsh_completion(app) : fish_completion(app));
        return kExitOk;
    }
    auto action = actions.find(selected);
    if (action == actions.end()) {
        std::cout << app.help();
        return kExitOk;
    }

    try {
        install_sigint_handler();
        Session session(g, out, enter_dir(g.dir));
        int code = action->second(session);
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
