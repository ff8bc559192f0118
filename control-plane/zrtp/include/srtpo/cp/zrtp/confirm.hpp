#pragma once
// Confirm1 / Confirm2 (RFC 6189 §5.7): confirm_mac, a CFB IV, then AES-CFB encrypted H0, the
// signature length, the E/V/A/D flags and the cache expiration interval. The MAC covers the
// ciphertext (encrypt-then-MAC) with the negotiated HMAC truncated to 64 bits.
// Every function here is pure and thread-safe; results own their bytes, inputs are only read
// during the call.

#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/message.hpp>

namespace srtpo::cp::zrtp {

/// The encrypted part, in clear.
struct confirm_body {
    hash_image h0{};
    bool pbx_enrollment = false;    ///< E
    bool sas_verified = false;      ///< V
    bool allow_clear = false;       ///< A
    bool disclosure = false;        ///< D
    uint32_t cache_expiration = 0xFFFFFFFF; ///< seconds; all ones = forever (§5.7)
};

/// Encrypts and MACs. `zrtpkey` and `mackey` are the sender's (§4.5.3). Thread-safe (pure).
std::vector<uint8_t> build_confirm(bool second, const confirm_body& b, cipher_algo c, hash_algo h,
                                   std::span<const uint8_t> zrtpkey, std::span<const uint8_t> mackey);

enum class confirm_failure : uint8_t { malformed, bad_mac };
struct confirm_error {
    confirm_failure why;
    engine::error detail;
};

/// Checks the length, verifies confirm_mac (constant time) and decrypts. A signature block
/// (sig len > 0) is skipped: we do not verify signatures (§7.2 is optional). Thread-safe (pure).
/// On error `why` tells malformed input from a MAC failure (Error 0x70, §5.9).
bool open_confirm(std::span<const uint8_t> msg, bool second, cipher_algo c, hash_algo h,
                  std::span<const uint8_t> zrtpkey, std::span<const uint8_t> mackey, confirm_body& out,
                  confirm_error& err);

} // namespace srtpo::cp::zrtp
