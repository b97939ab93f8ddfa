// Validation of user-supplied names, tags, notes and relative paths. One rule each, used by every
// operation and (through the ABI) by every binding.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace jvs {

// Worktree / repository names: NFC-normalised, then [A-Za-z0-9._-]+, at most 255 bytes, no "..",
// not "." and not starting with '-' or '.' (the Go tool accepted those; they break paths and flags).
// Returns the normalised name; throws E_NAME_INVALID.
std::string validate_name(std::string_view name);

// Tags: [A-Za-z0-9._-]+, at most 255 bytes, not starting with '-', and not "HEAD". Throws E_TAG_INVALID.
void validate_tag(std::string_view tag);

// Notes: valid UTF-8 without NUL, at most 1 MiB. Throws E_NOTE_INVALID.
void validate_note(std::string_view note);

// Relative paths inside a worktree (partial snapshots): non-empty, relative, no NUL or control
// characters, valid UTF-8 not required (filenames are bytes), no ".." component; cleaned lexically
// ("a//b/./c/" -> "a/b/c"). "." alone means the whole worktree and is rejected. Throws E_PATH_INVALID.
std::string clean_relative_path(std::string_view path);

// Whether the cleaned relative path `rel` is one of `scope` (cleaned relative paths) or lies below
// one, component-wise ("a/b" is inside "a", "ab" is not). An empty scope is the whole tree.
bool in_scope(const std::string &rel, const std::vector<std::string> &scope);

bool is_valid_utf8(std::string_view s);

}  // namespace jvs
