#include "util/sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <new>
#include <vector>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/holes.hpp"

namespace jvs {

struct Sha256::Impl {
    EVP_MD_CTX *ctx = nullptr;
};

namespace {
// Fetched once: EVP_sha256() per init would look the algorithm up (under a lock) for every file.
const EVP_MD *sha256_md() {
    static const EVP_MD *md = [] {
        const EVP_MD *m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return m ? m : EVP_sha256();
    }();
    return md;
}

// One read buffer per thread, not zero-filled: hashing 10,000 small files must not cost 10,000
// allocations and memsets of a megabyte.
char *io_buffer() {
    thread_local std::unique_ptr<char[]> buf(new char[kIoBufferSize]);
    return buf.get();
}
}  // namespace

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, sha256_md(), nullptr) != 1) throw std::bad_alloc();
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(const void *data, size_t len) { EVP_DigestUpdate(impl_->ctx, data, len); }

namespace {
std::string to_hex(const unsigned char *md, size_t n) {
    static const char *digits = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

std::string Sha256::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(impl_->ctx, md, &n);
    return to_hex(md, n);
}

std::string digest_hex(const Digest &d) { return to_hex(d.data(), d.size()); }

bool digest_from_hex(std::string_view hex, Digest &out) {
    if (hex.size() != out.size() * 2) return false;
    for (size_t i = 0; i < out.size(); i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return true;
}

std::string sha256_hex(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.hex();
}

std::string sha256_file(const std::string &path) {
    UniqueFd fd = open_regular(path);
    return sha256_fd(fd.get(), path);
}

namespace {
// Reads [off, off + len) into the hash (stops at EOF); returns the bytes read.
uint64_t hash_range(Sha256 &h, int fd, uint64_t off, uint64_t len, const std::string &path) {
    char *buf = io_buffer();
    uint64_t done = 0;
    while (done < len) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(len - done, kIoBufferSize));
        ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(off + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", path);
        }
        if (n == 0) break;
        h.update(buf, static_cast<size_t>(n));
        done += static_cast<uint64_t>(n);
    }
    return done;
}

// A sparse file: data segments read, holes hashed as zeros without a read; then anything the file
// grew by meanwhile, so the hash is of the bytes a sequential read would have seen.
std::string sha256_sparse(int fd, uint64_t size, const std::string &path) {
    Sha256 h;
    uint64_t off = 0;
    bool eof = !for_each_segment(fd, size, path, [&](uint64_t o, uint64_t len, bool hole) {
        uint64_t n = len;
        if (hole) hash_zeros(h, len);
        else n = hash_range(h, fd, o, len, path);
        off = o + n;
        return n == len;
    });
    if (!eof) hash_range(h, fd, off, UINT64_MAX - off, path);
    return h.hex();
}
}  // namespace

std::string sha256_fd(int fd, const std::string &path) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && may_have_holes(st)) return sha256_sparse(fd, static_cast<uint64_t>(st.st_size), path);
    Sha256 h;
    char *buf = io_buffer();
    for (off_t off = 0;;) {
        ssize_t n = ::pread(fd, buf, kIoBufferSize, off);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno, "read", path);
        }
        if (n == 0) break;
        h.update(buf, static_cast<size_t>(n));
        off += n;
    }
    return h.hex();
}

}  // namespace jvs
