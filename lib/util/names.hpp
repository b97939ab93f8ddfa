// Validation of user-supplied names, tags, notes and relative paths. One rule each, used by every
// operation and (through the ABI) by every binding.
#pragma once
#include <optional>
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
// Whether `rel` is `dir` or lies below it, component-wise (both cleaned relative paths).
bool path_within(std::string_view rel, std::string_view dir);
// The directory part of a relative path ("a/b/c" -> "a/b", "c" -> ""), as a view into it.
inline std::string_view parent_dir_of(std::string_view rel) {
    const size_t slash = rel.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash);
}

// Whether the cleaned relative path `rel` is `.jvs` or lies below it: in a worktree of an adopted
// repository, the repository's control directory (Repo::is_control_rel).
bool in_control_dir(std::string_view rel);

bool is_valid_utf8(std::string_view s);

// ---- what is read back from the repository -----------------------------------------------------
// Every path, name and id jvs reads from its own files (descriptors, manifests, stat caches, worktree
// configs, intents, gc plans, tombstones, pins, lock file names) was written by someone who may not
// be jvs: an agent can edit anything under .jvs. Before any of it is joined to a directory it must
// name something inside that directory. These are the rules, one place for all of them.

inline constexpr size_t kNameMax = 255;   // bytes per path component (NAME_MAX)
inline constexpr size_t kPathMax = 4095;  // bytes per relative path (PATH_MAX without its NUL)

// Why `rel` is not a safe relative path, or nullopt when it is: non-empty, relative, every
// '/'-separated component non-empty and neither "." nor "..", no NUL byte, components of at most
// kNameMax bytes and the whole at most kPathMax. Any other byte is allowed (file names are bytes).
std::optional<std::string> unsafe_path_reason(std::string_view rel);
// Throws E_PATH_UNSAFE (status CORRUPT) naming `field` ("manifest entry", "descriptor partial_paths",
// ...) unless `rel` is safe.
void check_stored_path(std::string_view rel, std::string_view field);
// A worktree name read back (a config's `name`, a directory under .jvs/worktrees): the Go tool's
// name rule, which is ours without the leading '.'/'-' restriction (the Go tool accepted those):
// [A-Za-z0-9._-], 1..255 bytes, no "..", not ".".
bool is_stored_name(std::string_view name);
// Throws E_PATH_UNSAFE naming `field` unless `name` is a stored name.
void check_stored_name(std::string_view name, std::string_view field);
// Throws E_PATH_UNSAFE: `field` holds `value`, which is unsafe because `why`.
[[noreturn]] void fail_unsafe(std::string_view value, std::string_view field, const std::string &why);

}  // namespace jvs
