// libFuzzer: the a=crypto parser (RFC 4568 §9.1) and the answerer. An accepted attribute with a
// known suite must serialize and parse back to the same text; answering it must either fail
// with a reason or produce a fresh local key of the suite's length, never the offered one.
#include <srtpo/cp/sdes/negotiation.hpp>

#include <cstdlib>
#include <string_view>

using namespace srtpo::cp::sdes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto a = parse_crypto(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!a) {
        if (a.err().message.empty()) std::abort();
        return 0;
    }
    if (!a->suite) return 0;
    auto s = serialize_crypto(*a);
    if (!s) return 0; // e.g. an MKI the encoder refuses: an error, not a crash
    auto b = parse_crypto(*s);
    if (!b) std::abort();
    auto s2 = serialize_crypto(*b);
    if (!s2 || *s2 != *s) std::abort();
    policy pol;
    pol.preference = {*a->suite};
    pol.allow_unencrypted = (size % 2) == 0;
    auto r = answer_offer(std::span(&*a, 1), pol);
    if (r) {
        if (r->keying.local.key_salt.size() != srtpo::engine::traits(*a->suite).key_salt_len()) std::abort();
        if (r->keying.local.key_salt.equals(r->keying.remote.key_salt.bytes())) std::abort();
    } else if (warn_code_for(r.err()) == 399) {
        std::abort(); // refusals are 305 or 306
    }
    return 0;
}
