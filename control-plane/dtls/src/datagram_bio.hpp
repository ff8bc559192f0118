#pragma once
// A BIO that keeps datagram boundaries (private): every BIO_write from OpenSSL's DTLS code is
// one record or flight fragment sized to the MTU and becomes one queued datagram; a BIO_read
// returns the one datagram the endpoint is currently feeding, whole. BIO_s_mem would merge
// writes into a byte stream and lose those boundaries; BIO_s_dgram_pair arrived only in 3.2.

#include <openssl/bio.h>

#include <cstddef>
#include <deque>
#include <span>
#include <vector>

namespace srtpo::cp::dtls {

/// Creates the BIO. `out` receives written datagrams; `in` is consumed (set empty) by a read.
/// Both must outlive the BIO. Returns nullptr on allocation failure. Thread-safe.
BIO* make_datagram_bio(std::deque<std::vector<std::byte>>* out, std::span<const std::byte>* in);

} // namespace srtpo::cp::dtls
