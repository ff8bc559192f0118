#include "association.hpp"

#include <openssl/crypto.h>

namespace srtpo::cp::dtls {

void association::connect(engine::suite s, std::span<std::byte> material, dtls_role role) {
    auto keying = split_keying_material(s, material, role == dtls_role::client);
    OPENSSL_cleanse(material.data(), material.size());
    if (!keying) {
        fail(failure::internal_error, keying.err().message);
        return;
    }
    _state = endpoint_state::connected;
    _profile = s;
    _keys = std::move(*keying);
}

void association::fail(failure f, std::string msg) {
    _state = endpoint_state::failed;
    _failure = handshake_failed{f, std::move(msg)};
}

} // namespace srtpo::cp::dtls
