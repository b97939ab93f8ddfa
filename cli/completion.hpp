// completion.hpp -- shell completion scripts generated from the CLI11 command tree.
//
// Commands and flags come from the tree itself. What a positional argument or a flag's value
// completes to is its "kind" (ValueKinds, set where the option is declared in main.cpp):
//   refs, tags, worktrees, config-keys  asked of the repository at completion time through the
//                                       hidden `jvs __complete <kind>` (commands.cpp)
//   files, dirs                         the shell's own file / directory completion
//   words:a b c                         a fixed list
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace jvs_cli {

using ValueKinds = std::map<const CLI::Option *, std::string>;

// The kinds `jvs __complete` answers.
inline const std::vector<std::string> &dynamic_kinds() {
    static const std::vector<std::string> k = {"refs", "tags", "worktrees", "config-keys"};
    return k;
}

namespace completion_detail {

struct Node {
    std::string path;                          // "worktree create" ("" for the root)
    std::vector<std::string> names;            // the command's name and aliases
    std::vector<std::string> commands;         // subcommand names and aliases
    std::vector<std::string> flags;            // --long and -s forms
    std::vector<std::pair<std::string, std::string>> value_flags; // flag -> kind ("-" = no completion)
    std::vector<std::string> positionals;      // kind of each positional, in order ("-" = none)
};

inline bool hidden(const CLI::App *app) { return app->get_group().empty(); }

inline void collect(const CLI::App *app, const std::string &path, const ValueKinds &kinds, std::vector<Node> &out) {
    Node n;
    n.path = path;
    n.names.push_back(app->get_name());
    for (const std::string &a : app->get_aliases())
        n.names.push_back(a);
    for (const CLI::Option *o : app->get_options()) {
        auto k = kinds.find(o);
        const std::string kind = k == kinds.end() ? "-" : k->second;
        if (o->get_lnames().empty() && o->get_snames().empty()) {
            n.positionals.push_back(kind);
            continue;
        }
        std::vector<std::string> forms;
        for (const std::string &l : o->get_lnames())
            forms.push_back("--" + l);
        for (const std::string &s : o->get_snames())
            forms.push_back("-" + s);
        for (const std::string &f : forms) {
            n.flags.push_back(f);
            if (o->get_expected_max() != 0) // a flag expects no value; an option takes one
                n.value_flags.emplace_back(f, kind);
        }
    }
    std::vector<const CLI::App *> subs;
    for (const CLI::App *sub : app->get_subcommands([](const CLI::App *) { return true; }))
        if (!hidden(sub))
            subs.push_back(sub);
    for (const CLI::App *sub : subs) {
        n.commands.push_back(sub->get_name());
        for (const std::string &a : sub->get_aliases())
            n.commands.push_back(a);
    }
    out.push_back(n);
    for (const CLI::App *sub : subs)
        collect(sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), kinds, out);
}

inline std::string join(const std::vector<std::string> &v, const char *sep = " ") {
    std::string s;
    for (const std::string &x : v)
        s += (s.empty() ? "" : sep) + x;
    return s;
}

inline std::string parent_of(const std::string &path) {
    return path.find(' ') == std::string::npos ? "" : path.substr(0, path.rfind(' '));
}

} // namespace completion_detail

// bash (also used by zsh through bashcompinit, hence no variable named like a zsh special: path,
// words). The script walks the words before the cursor to
// find the command path, skipping flags and their values and counting positionals, then offers
// the value kind of the flag before the cursor, the flags, or the subcommands and the kind of the
// next positional.
inline std::string bash_completion(const CLI::App &root, const ValueKinds &kinds) {
    using namespace completion_detail;
    std::vector<Node> nodes;
    collect(&root, "", kinds, nodes);
    std::string s = "# bash completion for jvs\n"
                    "# What a flag's value completes to (\"-\": a value, nothing to offer; empty: no value).\n"
                    "_jvs_value_kind() {\n    case \"$1|$2\" in\n";
    for (const Node &n : nodes)
        for (const auto &[flag, kind] : n.value_flags)
            s += "        \"" + n.path + "|" + flag + "\") echo '" + kind + "' ;;\n";
    s += "        *) [ -n \"$1\" ] && _jvs_value_kind \"\" \"$2\" ;; # global flags work after a command too\n"
         "    esac\n}\n"
         "_jvs_positional_kind() {\n    case \"$1|$2\" in\n";
    for (const Node &n : nodes)
        for (size_t i = 0; i < n.positionals.size(); i++)
            s += "        \"" + n.path + "|" + std::to_string(i) + "\") echo '" + n.positionals[i] + "' ;;\n";
    s += "    esac\n}\n"
         "_jvs_words() {\n    case \"$1\" in\n";
    for (const Node &n : nodes)
        s += "        \"" + n.path + "\") echo '" + join(n.commands) + "' ;;\n";
    s += "    esac\n}\n"
         "_jvs_flags() {\n    case \"$1\" in\n";
    for (const Node &n : nodes)
        s += "        \"" + n.path + "\") echo '" + join(n.flags) + "' ;;\n";
    s += "    esac\n}\n"
         "_jvs() {\n"
         "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"\" w i npos=0 skip=0 cdir=\"\" kind=\"\" next\n"
         "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "        w=\"${COMP_WORDS[i]}\"\n"
         "        if ((skip)); then\n"
         "            skip=0\n"
         "            [ \"${COMP_WORDS[i-1]}\" = -C ] && cdir=\"$w\"\n"
         "            continue\n"
         "        fi\n"
         "        case \"$w\" in\n"
         "            --*=*) continue ;;\n"
         "            -*) [ -n \"$(_jvs_value_kind \"$cmd\" \"$w\")\" ] && skip=1; continue ;;\n"
         "        esac\n"
         "        next=\"\"\n"
         "        case \"${cmd:+$cmd }$w\" in\n";
    for (const Node &n : nodes) {
        if (n.path.empty())
            continue;
        const std::string parent = parent_of(n.path);
        for (const std::string &name : n.names)
            s += "            \"" + (parent.empty() ? name : parent + " " + name) + "\") next=\"" + n.path + "\" ;;\n";
    }
    s += "        esac\n"
         "        if [ -n \"$next\" ] && ((npos == 0)); then cmd=\"$next\"; else npos=$((npos + 1)); fi\n"
         "    done\n"
         "    if ((skip)); then\n"
         "        kind=\"$(_jvs_value_kind \"$cmd\" \"${COMP_WORDS[COMP_CWORD-1]}\")\"\n"
         "    elif [[ \"$cur\" == -* ]]; then\n"
         "        COMPREPLY=($(compgen -W \"$(_jvs_flags \"$cmd\") $(_jvs_flags \"\")\" -- \"$cur\"))\n"
         "        return\n"
         "    else\n"
         "        kind=\"$(_jvs_positional_kind \"$cmd\" \"$npos\")\"\n"
         "    fi\n"
         "    local cands=\"\"\n"
         "    ((npos == 0)) && ! ((skip)) && cands=\"$(_jvs_words \"$cmd\")\"\n"
         "    case \"$kind\" in\n"
         "        files) COMPREPLY=($(compgen -f -- \"$cur\")); type compopt >/dev/null 2>&1 && compopt -o filenames; return ;;\n"
         "        dirs) COMPREPLY=($(compgen -d -- \"$cur\")); type compopt >/dev/null 2>&1 && compopt -o filenames; return ;;\n"
         "        words:*) cands=\"$cands ${kind#words:}\" ;;\n"
         "        refs | tags | worktrees | config-keys)\n"
         "            cands=\"$cands $(\"${COMP_WORDS[0]}\" ${cdir:+-C \"$cdir\"} __complete \"$kind\" 2>/dev/null)\" ;;\n"
         "    esac\n"
         "    COMPREPLY=($(compgen -W \"$cands\" -- \"$cur\"))\n"
         "}\n"
         "complete -F _jvs jvs\n";
    return s;
}

inline std::string zsh_completion(const CLI::App &root, const ValueKinds &kinds) {
    return "#compdef jvs\n# zsh completion for jvs (through bashcompinit)\n"
           "autoload -U +X bashcompinit && bashcompinit\n" +
           bash_completion(root, kinds);
}

inline std::string fish_completion(const CLI::App &root, const ValueKinds &kinds) {
    using namespace completion_detail;
    std::vector<Node> nodes;
    collect(&root, "", kinds, nodes);
    auto values = [](const std::string &kind) -> std::string {
        if (kind == "files" || kind == "-")
            return kind == "files" ? " -F -r" : " -r";
        if (kind == "dirs")
            return " -r -a '(__fish_complete_directories)'";
        if (kind.rfind("words:", 0) == 0)
            return " -x -a '" + kind.substr(6) + "'";
        return " -x -a '(jvs __complete " + kind + " 2>/dev/null)'";
    };
    std::string s = "# fish completion for jvs\ncomplete -c jvs -f\n";
    for (const Node &n : nodes) {
        const std::string cond =
            n.path.empty() ? "__fish_use_subcommand" : "__fish_seen_subcommand_from " + join(n.names);
        for (const std::string &c : n.commands)
            s += "complete -c jvs -n '" + cond + "' -a '" + c + "'\n";
        for (const std::string &f : n.flags) {
            std::string kind;
            for (const auto &[vf, k] : n.value_flags)
                if (vf == f)
                    kind = k;
            s += "complete -c jvs -n '" + cond + "' " + (f.rfind("--", 0) == 0 ? "-l '" + f.substr(2) : "-s '" + f.substr(1)) +
                 "'" + (kind.empty() ? "" : values(kind)) + "\n";
        }
        for (const std::string &k : n.positionals)
            if (!n.path.empty() && k != "-" && k != "files" && k != "dirs")
                s += "complete -c jvs -n '" + cond + "'" + values(k).substr(3) + "\n";
    }
    return s;
}

// PowerShell: a native argument completer keyed by the command path typed so far (commands and flags).
inline std::string powershell_completion(const CLI::App &root, const ValueKinds &kinds) {
    using namespace completion_detail;
    std::vector<Node> nodes;
    collect(&root, "", kinds, nodes);
    std::string s = "# PowerShell completion for jvs\n$jvsWords = @{\n";
    for (const Node &n : nodes) {
        std::vector<std::string> all = n.commands;
        all.insert(all.end(), n.flags.begin(), n.flags.end());
        s += "    '" + n.path + "' = @('" + join(all, "', '") + "')\n";
        const std::string parent = parent_of(n.path);
        for (size_t i = 1; i < n.names.size(); i++) // aliases complete like the command they stand for
            s += "    '" + (parent.empty() ? n.names[i] : parent + " " + n.names[i]) + "' = @('" + join(all, "', '") + "')\n";
    }
    s += "}\n"
         "Register-ArgumentCompleter -Native -CommandName jvs -ScriptBlock {\n"
         "    param($wordToComplete, $commandAst, $cursorPosition)\n"
         "    $path = ''\n"
         "    foreach ($e in $commandAst.CommandElements | Select-Object -Skip 1) {\n"
         "        $w = $e.ToString()\n"
         "        if ($w -eq $wordToComplete -or $w.StartsWith('-')) { continue }\n"
         "        $next = if ($path) { \"$path $w\" } else { $w }\n"
         "        if ($jvsWords.ContainsKey($next)) { $path = $next }\n"
         "    }\n"
         "    $jvsWords[$path] | Where-Object { $_ -like \"$wordToComplete*\" } |\n"
         "        ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }\n"
         "}\n";
    return s;
}

} // namespace jvs_cli
