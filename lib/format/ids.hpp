// Snapshot ids ("%013d-%08x": unix millis, 4 random bytes) and repository ids (uuid v4).
#pragma once
#include <string>
#include <string_view>

namespace jvs {

std::string new_snapshot_id();
bool is_snapshot_id(std::string_view s);  // ^\d{13}-[0-9a-f]{8}$
std::string new_uuid_v4();                // lowercase 8-4-4-4-12
bool is_uuid(std::string_view s);         // 8-4-4-4-12 hex digits (either case)
// An id read back from the repository (a descriptor's parent_id, a config's head, a plan's
// candidate, a pin): throws E_PATH_UNSAFE naming `field` unless it is a snapshot id (or, with
// `may_be_empty`, empty).
void check_stored_snapshot_id(std::string_view id, std::string_view field, bool may_be_empty = false);

}  // namespace jvs
