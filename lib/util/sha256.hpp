// SHA-256 through OpenSSL's EVP interface (SHA-NI / AVX2 accelerated where the CPU has it).
#pragma once
#include <array>
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

// A sha256 kept in 32 bytes instead of 64 hex digits (+ a string's overhead): for tables of a
// million hashes held in memory.
using Digest = std::array<unsigned char, 32>;
std::string digest_hex(const Digest &d);
// false unless `hex` is exactly 64 lowercase hex digits.
bool digest_from_hex(std::string_view hex, Digest &out);

// A manifest's hash field: read and written as the 64 hex digits the formats spell, held as 32
// bytes (a string would take 112: its own 32 and a 65-byte heap block). Anything that is not
// 64 lowercase hex digits is kept as "invalid" (valid() false, str() empty), never as other bytes.
class HexDigest {
   public:
    HexDigest() = default;
    HexDigest(std::string_view hex) { assign(hex); }  // NOLINT: implicit, as the string it replaces
    HexDigest(const std::string &hex) { assign(hex); }  // NOLINT
    explicit HexDigest(const Digest &d) : d_(d), state_(kSet) {}
    HexDigest &operator=(std::string_view hex) { return assign(hex); }
    HexDigest &operator=(const std::string &hex) { return assign(hex); }
    std::string str() const { return state_ == kSet ? digest_hex(d_) : std::string(); }
    operator std::string() const { return str(); }  // NOLINT
    bool empty() const { return state_ != kSet; }
    bool valid() const { return state_ == kSet; }
    const Digest *digest() const { return state_ == kSet ? &d_ : nullptr; }  // nullptr unless valid
    bool operator==(const HexDigest &o) const { return state_ == o.state_ && (state_ != kSet || d_ == o.d_); }
    bool operator==(const std::string &hex) const { return str() == hex; }

   private:
    HexDigest &assign(std::string_view hex) {
        state_ = hex.empty() ? kEmpty : digest_from_hex(hex, d_) ? kSet : kInvalid;
        return *this;
    }
    enum : unsigned char { kEmpty, kSet, kInvalid };
    Digest d_{};
    unsigned char state_ = kEmpty;
};

// Hash of a whole file's content, read with large sequential reads. Throws E_IO.
std::string sha256_file(const std::string &path);
// The same for an open file, from offset 0 (the file position is not used); `path` names it in errors.
std::string sha256_fd(int fd, const std::string &path);

}  // namespace jvs
