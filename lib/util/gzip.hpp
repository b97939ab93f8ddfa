// gzip streams as the Go tool's `snapshot --compress` wrote them (RFC 1952, one member), read
// through zlib. Reading only: jvs itself never writes compressed snapshots.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace jvs {

// Whether `head` (a file's first bytes, at least 10) is the header Go's compress/gzip writes with
// no name, comment, extra field or time set: 1f 8b 08, flags 0, mtime 0, OS 255 ("unknown"). The
// gzip(1) command and most other writers set the name, the time or their OS, so a user's own
// `*.gz` file rarely looks like this.
bool is_go_gzip_header(std::string_view head);

// Inflates the whole stream read from `fd` (from its current offset), handing every decompressed
// chunk to `out`, and `raw` every compressed chunk as read (either may be empty). Returns "" when
// the stream is one complete gzip member whose CRC-32 and length match and nothing follows it,
// else what is wrong with it ("not gzip data", "truncated", "CRC mismatch", "trailing bytes"...).
// Read errors throw E_IO naming `display`.
using ChunkSink = std::function<void(const char *, size_t)>;
std::string gunzip_fd(int fd, const std::string &display, const ChunkSink &out, const ChunkSink &raw = {});

}  // namespace jvs
