// did_you_mean.hpp -- suggestions for a mistyped command, subcommand or flag.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "output.hpp"

namespace jvs_cli {

// "worktree create" for that subcommand ("" for the app itself).
std::string command_path(const CLI::App *app);

// After a failed parse: the E_USAGE error document for the first word of the command line that names
// no command where one was expected (`jvs snapshto`) or no flag of its command (`jvs snapshot --tga`),
// with `details {word, did_you_mean}` and a "did you mean" hint; null when every word is known
// (the parse failed for another reason).
json misspelt_error(const CLI::App &app, int argc, char **argv);

} // namespace jvs_cli
