// SHA-256 through OpenSSL's EVP interface (SHA-NI / AVX2 accelerated where the CPU has it).
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace jvs {

class Sha256 {
   public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;
    void update(const void *data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::string hex();  // finalises; lowercase hex

   private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view data);

// Hash of a whole file's content, read with large sequential reads. Throws E_IO.
std::string sha256_file(const std::string &path);
// The same for an open file, from offset 0 (the file position is not used); `path` names it in errors.
std::string sha256_fd(int fd, const std::string &path);

}  // namespace jvs
