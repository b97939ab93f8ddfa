// completion.hpp -- shell completion scripts generated from the CLI11 command tree.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace jvs_cli {

namespace completion_detail {

struct Node {
    std::string path;                  // "worktree create" ("" for the root)
    std::vector<std::string> names;    // the command's name and aliases
    std::vector<std::string> commands; // subcommand names and aliases
    std::vector<std::string> flags;    // --long and -s forms
};

inline void collect(const CLI::App *app, const std::string &path, std::vector<Node> &out) {
    Node n;
    n.path = path;
    n.names.push_back(app->get_name());
    for (const std::string &a : app->get_aliases())
        n.names.push_back(a);
    for (const CLI::Option *o : app->get_options()) {
        for (const std::string &l : o->get_lnames())
            n.flags.push_back("--" + l);
        for (const std::string &s : o->get_snames())
            n.flags.push_back("-" + s);
    }
    const auto subs = app->get_subcommands([](const CLI::App *) { return true; });
    for (const CLI::App *sub : subs) {
        n.commands.push_back(sub->get_name());
        for (const std::string &a : sub->get_aliases())
            n.commands.push_back(a);
    }
    out.push_back(n);
    for (const CLI::App *sub : subs)
        collect(sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
}

inline std::string join(const std::vector<std::string> &v, const char *sep = " ") {
    std::string s;
    for (const std::string &x : v)
        s += (s.empty() ? "" : sep) + x;
    return s;
}

} // namespace completion_detail

// bash (also used by zsh through bashcompinit).
inline std::string bash_completion(const CLI::App &root) {
    using namespace completion_detail;
    std::vector<Node> nodes;
    collect(&root, "", nodes);
    std::string s = "# bash completion for jvs\n_jvs() {\n"
                    "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" w i\n"
                    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
                    "        w=\"${COMP_WORDS[i]}\"\n"
                    "        case \"$w\" in -*) continue ;; esac\n"
                    "        case \"${path:+$path }$w\" in\n";
    for (const Node &n : nodes) {
        if (n.path.empty())
            continue;
        const std::string parent = n.path.find(' ') == std::string::npos ? "" : n.path.substr(0, n.path.rfind(' '));
        for (const std::string &name : n.names)
            s += "            \"" + (parent.empty() ? name : parent + " " + name) + "\") path=\"" + n.path + "\" ;;\n";
    }
    s += "        esac\n    done\n    local words\n    case \"$path\" in\n";
    for (const Node &n : nodes) {
        std::vector<std::string> all = n.commands;
        all.insert(all.end(), n.flags.begin(), n.flags.end());
        s += "        \"" + n.path + "\") words=\"" + join(all) + "\" ;;\n";
    }
    s += "    esac\n    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\ncomplete -o default -F _jvs jvs\n";
    return s;
}

inline std::string zsh_completion(const CLI::App &root) {
    return "#compdef jvs\n# zsh completion for jvs (through bashcompinit)\n"
           "autoload -U +X bashcompinit && bashcompinit\n" +
           bash_completion(root);
}

inline std::string fish_completion(const CLI::App &root) {
    using namespace completion_detail;
    std::vector<Node> nodes;
    collect(&root, "", nodes);
    std::string s = "# fish completion for jvs\ncomplete -c jvs -f\n";
    for (const Node &n : nodes) {
        const std::string cond =
            n.path.empty() ? "__fish_use_subcommand" : "__fish_seen_subcommand_from " + join(n.names);
        for (const std::string &c : n.commands)
            s += "complete -c jvs -n '" + cond + "' -a '" + c + "'\n";
        for (const std::string &f : n.flags) {
            if (f.rfind("--", 0) == 0)
                s += "complete -c jvs -n '" + cond + "' -l '" + f.substr(2) + "'\n";
            else
                s += "complete -c jvs -n '" + cond + "' -s '" + f.substr(1) + "'\n";
        }
    }
    return s;
}

// PowerShell: a native argument completer keyed by the command path typed so far.
inline std::string powershell_completion(const CLI::App &root) {
    using namespace completion_detail;
    std::vector<Node> nodes;
    collect(&root, "", nodes);
    std::string s = "# PowerShell completion for jvs\n$jvsWords = @{\n";
    for (const Node &n : nodes) {
        std::vector<std::string> all = n.commands;
        all.insert(all.end(), n.flags.begin(), n.flags.end());
        s += "    '" + n.path + "' = @('" + join(all, "', '") + "')\n";
        const std::string parent = n.path.find(' ') == std::string::npos ? "" : n.path.substr(0, n.path.rfind(' '));
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
