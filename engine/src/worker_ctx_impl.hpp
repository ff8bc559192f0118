#pragma once
// The inside of worker_ctx: per-backend workers and the scratch the burst functions use.

#include "backend/crypto_backend.hpp"
#include "session_impl.hpp"

#include <srtpo/engine/status.hpp>
#include <srtpo/engine/worker_ctx.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace srtpo::engine {

/// What phase 1 (parse, estimate, check) learned about one op, for the later phases.
struct op_scratch {
    detail::stream* st = nullptr;
    detail::master_key* key = nullptr;
    uint64_t index = 0;        ///< SRTP packet index (48 bits) or SRTCP index (31 bits)
    uint32_t roc = 0;
    uint16_t hdr_len = 0;      ///< octets never encrypted (RTP header; 8 for RTCP)
    uint16_t body_len = 0;     ///< octets of payload (RTP) or of the RTCP body after the first 8
    uint16_t new_len = 0;      ///< packet length after a successful transform
    uint8_t group = 0;
    bool encrypted = true;     ///< SRTCP E flag / whether SRTP payload is encrypted
    bool cryptex = false;      ///< this packet's header extension is under RFC 9335
    bool garbled = false;      ///< AEAD open failed after decrypting in place (ciphertext lost)
    bool padding = false;      ///< RTP P bit (unprotect: checked after decryption)
    std::array<std::byte, 16> saved_tag{}; ///< received tag, moved aside before the ROC is written (F8, NULL)
    std::array<std::byte, 4> saved_tail{};  ///< octets the ROC overwrote, restored on failure

    /// Clears what phase 1 relies on; the saved_* arrays are always written before being read,
    /// so they are left alone (this runs once per packet).
    void reset() noexcept {
        st = nullptr;
        key = nullptr;
        index = 0;
        roc = 0;
        hdr_len = body_len = new_len = 0;
        group = 0;
        encrypted = true;
        cryptex = false;
        garbled = false;
        padding = false;
    }
};

/// One group = one (backend, suite); its ops are handed to the backend in one call.
inline constexpr std::size_t max_groups = 2 * 16;

struct worker_ctx::impl {
    std::array<std::unique_ptr<detail::backend_worker>, 2> workers; ///< indexed by backend_kind
    uint64_t epoch = 0;
    std::array<op_scratch, max_burst> ops{};
    std::array<detail::crypto_job, max_burst> jobs{};
    std::array<detail::cm_hmac_job, max_burst> cm{}; ///< AES-CM + HMAC-SHA1 packets (ADR 0019)
    std::array<std::array<std::byte, 32>, max_burst> tags{};
    std::array<uint16_t, max_burst> order{}; ///< op indices sorted by group
    std::array<uint16_t, max_groups + 1> group_start{};
    std::vector<std::byte> ext_keystream;    ///< RFC 6904 keystream, one packet at a time
    struct reserved { session_rt* s; detail::stream* st; };
    std::array<reserved, max_burst> pending{}; ///< streams reserved (pending) by this chunk
    std::size_t n_pending = 0;
    std::array<std::array<std::byte, 16>, max_burst> aad{}; ///< SRTCP AEAD AAD (header ‖ ESRTCP word)

    detail::backend_worker& worker(backend_kind k) noexcept { return *workers[static_cast<std::size_t>(k)]; }
};

} // namespace srtpo::engine
