// a=crypto lines of an SDP media section (RFC 4568 §9.1 attribute in RFC 8866 §5.13 form).

#include <srtpo/cp/sdes/sdp_crypto.hpp>

#include <openssl/crypto.h>

namespace srtpo::cp::sdes {

result<std::vector<crypto_attribute>> crypto_attributes(const sdp::media_description& m) {
    std::vector<crypto_attribute> out;
    for (auto v : m.attributes("crypto")) {
        auto a = parse_crypto(v);
        if (!a) return engine::make_error(a.err().code, "a=crypto line " + std::to_string(out.size() + 1) + ": " + a.err().message);
        out.push_back(std::move(*a));
    }
    return out;
}

result<void> set_crypto_attributes(sdp::media_description& m, std::span<const crypto_attribute> attrs) {
    for (auto& l : m.lines)
        if (l.type == 'a' && l.value.starts_with("crypto:")) OPENSSL_cleanse(l.value.data(), l.value.size());
    m.remove_attributes("crypto");
    for (const auto& a : attrs) {
        auto s = serialize_crypto(a);
        if (!s) return s.err();
        m.add_attribute("crypto", *s);
        OPENSSL_cleanse(s->data(), s->size());
    }
    return {};
}

} // namespace srtpo::cp::sdes
