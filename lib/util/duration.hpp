// Durations as users write them: Go's time.ParseDuration units plus d (24h) and w (7d).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace jvs {

// "30m", "24h", "7d", "2w", "1h30m", "1.5h", "0" -> nanoseconds; nullopt when malformed, negative
// or beyond int64.
std::optional<int64_t> parse_duration(std::string_view s);

}  // namespace jvs
