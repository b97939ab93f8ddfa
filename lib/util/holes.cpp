#include "util/holes.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace jvs {

namespace {
// Zero-filled once, in .bss: hashing a hole touches no disk and allocates nothing.
alignas(64) const char kZeros[1 << 16] = {};

// The next data offset at or after `off`; `size` when the rest is a hole (ENXIO). -1 when the
// filesystem has no SEEK_DATA (the caller then treats everything as data).
off_t next_data(int fd, uint64_t off, uint64_t size, const std::string &display) {
    off_t d = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
    if (d >= 0) return std::min<off_t>(d, static_cast<off_t>(size));
    if (errno == ENXIO) return static_cast<off_t>(size);
    if (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOTSUP) return -1;
    fail_errno(errno, "lseek(SEEK_DATA)", display);
}

void pwrite_all(int fd, const char *p, size_t n, uint64_t off, const std::string &display) {
    while (n > 0) {
        ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
        if (w < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "write", display);
        }
        p += w;
        off += static_cast<uint64_t>(w);
        n -= static_cast<size_t>(w);
    }
}

// One data segment by pread/pwrite (hashed on the way); returns the bytes moved (short at EOF).
uint64_t copy_segment_bytes(int in, int out, uint64_t off, uint64_t len, const std::string &display, Sha256 *hash) {
    thread_local std::unique_ptr<char[]> buf(new char[kIoBufferSize]);  // not zero-filled
    uint64_t done = 0;
    while (done < len) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(len - done, kIoBufferSize));
        ssize_t n = ::pread(in, buf.get(), want, static_cast<off_t>(off + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", display);
        }
        if (n == 0) break;
        if (hash) hash->update(buf.get(), static_cast<size_t>(n));
        pwrite_all(out, buf.get(), static_cast<size_t>(n), off + done, display);
        done += static_cast<uint64_t>(n);
    }
    return done;
}

uint64_t copy_segment_kernel(int in, int out, uint64_t off, uint64_t len, const std::string &display) {
    loff_t in_off = static_cast<loff_t>(off), out_off = static_cast<loff_t>(off);
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = ::copy_file_range(in, &in_off, out, &out_off, static_cast<size_t>(len - done), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
                return done + copy_segment_bytes(in, out, off + done, len - done, display, nullptr);
            fail_errno(errno, "copy_file_range", display);
        }
        if (n == 0) break;
        done += static_cast<uint64_t>(n);
    }
    return done;
}
}  // namespace

bool for_each_segment(int fd, uint64_t size, const std::string &display,
                      const std::function<bool(uint64_t, uint64_t, bool)> &fn) {
    for (uint64_t off = 0; off < size;) {
        off_t data = next_data(fd, off, size, display);
        if (data < 0) return fn(off, size - off, false);  // no hole reporting here
        if (static_cast<uint64_t>(data) > off) {
            if (!fn(off, static_cast<uint64_t>(data) - off, true)) return false;
            off = static_cast<uint64_t>(data);
            if (off >= size) break;
        }
        off_t hole = ::lseek(fd, static_cast<off_t>(off), SEEK_HOLE);
        if (hole < 0) {
            if (errno != ENXIO) fail_errno(errno, "lseek(SEEK_HOLE)", display);
            hole = static_cast<off_t>(size);  // shrank meanwhile: the caller's reads see EOF
        }
        uint64_t end = std::min<uint64_t>(std::max<uint64_t>(static_cast<uint64_t>(hole), off + 1), size);
        if (!fn(off, end - off, false)) return false;
        off = end;
    }
    return true;
}

void hash_zeros(Sha256 &h, uint64_t len) {
    while (len > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(len, sizeof kZeros));
        h.update(kZeros, n);
        len -= n;
    }
}

uint64_t copy_sparse(int in, int out, uint64_t size, const std::string &display, Sha256 *hash, bool kernel) {
    uint64_t covered = 0;
    for_each_segment(in, size, display, [&](uint64_t off, uint64_t len, bool hole) {
        uint64_t n = len;
        if (hole) {
            if (hash) hash_zeros(*hash, len);
        } else if (hash || !kernel) {
            n = copy_segment_bytes(in, out, off, len, display, hash);
        } else {
            n = copy_segment_kernel(in, out, off, len, display);
        }
        covered += n;
        return n == len;  // short: the source shrank; what was read is what is stored
    });
    // The trailing hole (and any hole not written) exists once the size is set.
    if (::ftruncate(out, static_cast<off_t>(covered)) != 0) fail_errno(errno, "ftruncate", display);
    return covered;
}

}  // namespace jvs
