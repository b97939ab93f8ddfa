#include "util/sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <vector>

#include "util/error.hpp"
#include "util/fs.hpp"

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

std::string Sha256::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(impl_->ctx, md, &n);
    static const char *digits = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    return out;
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

std::string sha256_fd(int fd, const std::string &path) {
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
