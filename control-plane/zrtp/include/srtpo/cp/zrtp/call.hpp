#pragma once
// What the streams of one call share (RFC 6189 §4.4.3): once the first stream completes in DH
// mode, ZRTPSess keys every further stream in Multistream mode without another DH.

#include <srtpo/cp/zrtp/algorithms.hpp>
#include <srtpo/cp/zrtp/message.hpp>
#include <srtpo/cp/zrtp/secret.hpp>
#include <srtpo/cp/zrtp/zid_cache.hpp>

#include <string>

namespace srtpo::cp::zrtp {

/// One call's ZRTP state shared by its endpoints (one per media stream).
/// Thread-safety: none; the endpoints of a call are driven from one thread.
/// Ownership: shared (std::shared_ptr) by the call's endpoints; `cache` must outlive it.
struct call {
    explicit call(zid_cache& c) : cache(&c) {}
    zid_cache* cache;
    bool has_session_key = false; ///< a DH-mode stream reached Secure
    secret zrtp_sess;             ///< ZRTPSess (§4.5.2)
    hash_algo hash = hash_algo::s256;
    zid_t peer_zid{};
    std::string sas;              ///< the call's SAS (Multistream streams show the DH stream's)
};

} // namespace srtpo::cp::zrtp
