// Snapshot ids ("%013d-%08x": unix millis, 4 random bytes) and repository ids (uuid v4).
#pragma once
#include <string>
#include <string_view>

namespace jvs {

std::string new_snapshot_id();
bool is_snapshot_id(std::string_view s);  // ^\d{13}-[0-9a-f]{8}$
std::string new_uuid_v4();                // lowercase 8-4-4-4-12

}  // namespace jvs
