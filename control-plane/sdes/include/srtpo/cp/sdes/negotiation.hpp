#pragma once
// SDES offer/answer (RFC 4568 §7) for one media stream of one leg, as a media anchor does it:
// suites chosen by configured preference, keys freshly generated per leg with RAND_bytes (a key
// is never copied from the other leg), the answer reusing the offer's tag (§7.1.2), lifetime and
// MKI carried into the result, session parameters we cannot honour refused. The outcome is an
// srtpo::cp::srtp_keying: local = the key we generated (protects what we send), remote = the
// peer's key (unprotects what we receive).

#include <srtpo/cp/sdes/crypto_attribute.hpp>
#include <srtpo/cp/srtp_keying.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace srtpo::cp::sdes {

/// Local policy for a leg.
struct policy {
    /// Suites we accept or offer, most preferred first.
    std::vector<engine::suite> preference{engine::suite::aead_aes_256_gcm, engine::suite::aead_aes_128_gcm,
                                          engine::suite::aes_cm_128_hmac_sha1_80,
                                          engine::suite::aes_cm_128_hmac_sha1_32};
    uint64_t lifetime = 0;     ///< lifetime written on our keys (packets); 0 = omit (2^48 for SRTP)
    uint8_t mki_length = 0;    ///< 0: our keys carry no MKI; else MKI 1 of that many octets
    /// UNENCRYPTED_* and UNAUTHENTICATED_SRTP (RFC 4568 §6.3) weaken protection; an SBC refuses them unless told otherwise.
    bool allow_unencrypted = false;
    bool allow_unauthenticated = false;
};

/// Our answer to an offer, and the keys of the leg.
struct answer_result {
    crypto_attribute answer;   ///< the one a=crypto line to put in our answer
    srtp_keying keying;        ///< local = our fresh key, remote = the offered key
};

/// Picks the offered attribute to accept (RFC 4568 §7.1.2): for each suite in our preference
/// order, the first offered attribute with that suite whose parameters we can honour.
/// The remote key is the attribute's first key (with its lifetime and MKI); our key is new.
/// Errors (the text is the Warning text of the 488 the caller sends; warn_code_for maps them):
///  - unknown_suite: no offered suite is in our preference list (or nothing offered);
///  - unsupported: a common suite was offered, but each such attribute asks for something we
///    cannot honour (KDR other than 0, FEC_KEY, UNENCRYPTED_* / UNAUTHENTICATED_SRTP against
///    policy, an unknown mandatory session parameter); the text names the parameter;
///  - backend_failure: RAND_bytes failed.
/// Thread-safety: uses OpenSSL's thread-safe RAND; otherwise pure. Ownership: copies keys.
result<answer_result> answer_offer(std::span<const crypto_attribute> offered, const policy& pol);

/// Answer to a re-offer within the same session (a re-INVITE for hold/resume or a target
/// refresh), RFC 4568 §7.1.4: when the attribute we select repeats the key we already receive
/// with (same suite, key||salt, MKI), our answer repeats our current key too, so no rekey
/// happens and the SRTP streams (ROC, replay state) carry on; `previous` is the answer_result
/// of the last completed exchange. Any other selection gets a fresh key, as answer_offer.
/// Errors: as answer_offer. Thread-safety: as answer_offer. Ownership: copies keys.
result<answer_result> answer_reoffer(std::span<const crypto_attribute> offered, const policy& pol,
                                     const answer_result& previous);

/// An offer we made: the attributes (with our keys) to put in the SDP, kept until the answer.
/// Ownership: holds our keys; they wipe themselves.
struct offer_state {
    std::vector<crypto_attribute> offered;
};

/// Builds an offer: one attribute per suite in `pol.preference`, tags 1, 2, ... (RFC 4568
/// §7.1.1), each with its own fresh key. Errors: backend_failure (RAND_bytes), invalid_argument
/// (empty preference or a bad MKI length). Thread-safety: as answer_offer.
result<offer_state> make_offer(const policy& pol);

/// Reads the answer to our offer (RFC 4568 §7.1.3): exactly one attribute, whose tag names one
/// we offered and whose suite equals it, with no session parameter we did not offer.
/// Errors: invalid_argument (no or several attributes, unknown tag, suite changed),
/// unsupported (session parameter not acceptable), bad_key_length (wrong key size).
/// Thread-safety: pure. Ownership: copies keys.
result<srtp_keying> accept_answer(const offer_state& offer, std::span<const crypto_attribute> answer,
                                  const policy& pol);

/// RFC 3261 §20.43 warn-code for a negotiation error: 305 (incompatible media format) when no
/// suite is common, 306 (attribute not understood) when a parameter cannot be honoured, 399
/// otherwise. Thread-safety: pure.
uint16_t warn_code_for(const error& e) noexcept;

} // namespace srtpo::cp::sdes
