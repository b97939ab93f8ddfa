// Sparse files: the holes the kernel reports (lseek SEEK_DATA / SEEK_HOLE) are never read, never
// written and never stored as data. Copying and hashing walk a file as data and hole segments, so
// a 5 GiB file holding 8 KiB of data costs 8 KiB of reads and 8 KiB of disk in a snapshot, a
// restore or a fork (a hole hashes as the zeros it reads as, from a static zero buffer).
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>

namespace jvs {

class Sha256;

// Whether a file may have holes: fewer blocks allocated than its size needs. Files that do not
// (nearly all) take the plain sequential paths, without the extra lseek calls.
inline bool may_have_holes(const struct stat &st) {
    return S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_blocks) * 512 < static_cast<uint64_t>(st.st_size);
}

// Calls fn(offset, length, is_hole) for consecutive segments covering [0, size) of `fd`, as the
// kernel reports them; a filesystem that reports no holes gives one data segment. Stops early
// (returns false) when fn returns false. `display` names the file in errors (E_IO).
bool for_each_segment(int fd, uint64_t size, const std::string &display,
                      const std::function<bool(uint64_t off, uint64_t len, bool hole)> &fn);

// Feeds `len` zero bytes to `h` without reading anything.
void hash_zeros(Sha256 &h, uint64_t len);

// Copies the data segments of `in` (size `size`) to the same offsets of the empty file `out`,
// leaving its holes unwritten, then sets its size; with `hash`, the whole content (holes as zeros)
// is hashed. `kernel`: copy_file_range per segment, else pread/pwrite. Returns the bytes of content
// covered (stops short when `in` shrinks meanwhile).
uint64_t copy_sparse(int in, int out, uint64_t size, const std::string &display, Sha256 *hash, bool kernel);

// Whether `dst` lost the holes of `src`: the source was sparse, the copy is fully allocated and
// uses more blocks (a filesystem without holes, or one that does not report them).
inline bool holes_filled(const struct stat &src, const struct stat &dst) {
    return may_have_holes(src) && !may_have_holes(dst) && dst.st_blocks > src.st_blocks;
}

}  // namespace jvs
