// did_you_mean.cpp -- a word on the command line that names no command or flag, and the names
// close to it.
#include "did_you_mean.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "jvs.h"

namespace jvs_cli {

std::string command_path(const CLI::App *app) {
    std::string path;
    for (const CLI::App *a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent())
        path = a->get_name() + (path.empty() ? "" : " " + path);
    return path;
}

namespace {

// Edit distance with adjacent transpositions ("snapshto" is one step from "snapshot").
size_t edit_distance(const std::string &a, const std::string &b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); i++)
        d[i][0] = i;
    for (size_t j = 0; j <= b.size(); j++)
        d[0][j] = j;
    for (size_t i = 1; i <= a.size(); i++)
        for (size_t j = 1; j <= b.size(); j++) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

std::vector<const CLI::App *> visible_commands(const CLI::App *app) {
    std::vector<const CLI::App *> out;
    for (const CLI::App *sub : app->get_subcommands([](const CLI::App *) { return true; }))
        if (!sub->get_group().empty())
            out.push_back(sub);
    return out;
}

// The option `name` of `app` or of a parent (global flags fall through); nullptr when none.
const CLI::Option *find_option(const CLI::App *app, const std::string &name) {
    for (; app != nullptr; app = app->get_parent())
        if (const CLI::Option *o = app->get_option_no_throw(name))
            return o;
    return nullptr;
}

bool takes_value(const CLI::Option *o) { return o->get_expected_max() != 0; } // a flag expects 0 values

// Close enough to suggest: a typo or two (one for short words), or the start of the name.
bool near(const std::string &typed, const std::string &name) {
    const std::string t = typed.substr(typed.find_first_not_of('-') == std::string::npos ? 0 : typed.find_first_not_of('-'));
    const std::string n = name.substr(name.find_first_not_of('-'));
    const size_t limit = t.size() < 4 ? 1 : 2;
    return edit_distance(t, n) <= limit || (t.size() >= 3 && n.rfind(t, 0) == 0);
}

struct Misspelt {
    const CLI::App *parent; // the command whose subcommand or flag was meant
    std::string word;
    bool flag;
    std::vector<std::string> suggestions;
};

// The first word of the command line that names no command where one was expected (`jvs
// snapshto`, `jvs wt lst`) or no flag of the command it follows (`jvs snapshot --tga`).
std::optional<Misspelt> misspelt_word(const CLI::App &app, int argc, char **argv) {
    const CLI::App *cur = &app;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--")
            return std::nullopt;
        if (arg.size() > 1 && arg[0] == '-') {
            const std::string name = arg.substr(0, arg.find('='));
            const CLI::Option *o = find_option(cur, name);
            if (o == nullptr && arg[1] != '-' && arg.size() > 2) // -n5: a short option with its value
                if (const CLI::Option *s = find_option(cur, arg.substr(0, 2)); s != nullptr && takes_value(s))
                    continue;
            if (o == nullptr) {
                Misspelt m{cur, name, true, {}};
                for (const CLI::App *a = cur; a != nullptr; a = a->get_parent())
                    for (const CLI::Option *opt : a->get_options())
                        for (const std::string &l : opt->get_lnames())
                            if (near(name, "--" + l) && std::find(m.suggestions.begin(), m.suggestions.end(), "--" + l) == m.suggestions.end())
                                m.suggestions.push_back("--" + l);
                return m;
            }
            if (arg.find('=') == std::string::npos && takes_value(o))
                ++i;
            continue;
        }
        const auto subs = visible_commands(cur);
        const CLI::App *next = nullptr;
        for (const CLI::App *sub : subs)
            if (sub->check_name(arg))
                next = sub;
        if (next != nullptr) {
            cur = next;
            continue;
        }
        if (subs.empty() || !cur->get_options([](const CLI::Option *o) { return o->get_positional(); }).empty())
            continue; // a positional argument, not a command
        Misspelt m{cur, arg, false, {}};
        for (const CLI::App *sub : subs) {
            std::vector<std::string> names = {sub->get_name()};
            for (const std::string &a : sub->get_aliases())
                names.push_back(a);
            for (const std::string &n : names)
                if (near(arg, n) && std::find(m.suggestions.begin(), m.suggestions.end(), sub->get_name()) == m.suggestions.end())
                    m.suggestions.push_back(sub->get_name());
        }
        return m;
    }
    return std::nullopt;
}

json misspelt_document(const Misspelt &m) {
    const std::string path = command_path(m.parent);
    const std::string help = "see 'jvs " + (path.empty() ? "" : path + " ") + "--help'";
    std::string hint = help;
    if (!m.suggestions.empty()) {
        hint = "did you mean ";
        for (size_t i = 0; i < m.suggestions.size(); i++)
            hint += (i == 0 ? "'" : i + 1 == m.suggestions.size() ? " or '" : ", '") + m.suggestions[i] + "'";
        hint += "? (" + help + ")";
    }
    const std::string what = m.flag ? "unknown flag '" : "unknown command '";
    json doc = make_error(JVS_E_INVALID_ARG, "E_USAGE", what + m.word + "'" + (path.empty() ? "" : " for 'jvs " + path + "'"), hint);
    doc["error"]["details"] = {{"word", m.word}, {"did_you_mean", m.suggestions}};
    return doc;
}

} // namespace

json misspelt_error(const CLI::App &app, int argc, char **argv) {
    if (auto m = misspelt_word(app, argc, argv))
        return misspelt_document(*m);
    return nullptr;
}

} // namespace jvs_cli
