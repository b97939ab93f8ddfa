// Published snapshots: a snapshot is visible when both its directory and its descriptor exist.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "format/descriptor.hpp"

namespace jvs {

class Repo;

// Throws E_REF_NOT_FOUND (no descriptor), E_DESCRIPTOR_CORRUPT (unparseable, or filed under another
// id), E_PATH_UNSAFE (an id, name or partial path that would lead outside the repository).
Descriptor load_descriptor(const Repo &repo, const std::string &id);
std::optional<Descriptor> try_load_descriptor(const Repo &repo, const std::string &id);
bool is_published(const Repo &repo, const std::string &id);
// Every published snapshot with a readable descriptor, newest created_at first (ties: id descending).
std::vector<Descriptor> list_snapshots(const Repo &repo);

}  // namespace jvs
