// RFC names of MIKEY code points, for the decoder's output.
#include <srtpo/cp/mikey/constants.hpp>

#include <array>

namespace srtpo::cp::mikey {

namespace {
template <std::size_t N>
std::string_view pick(const std::array<std::string_view, N>& names, unsigned v) {
    return v < N && !names[v].empty() ? names[v] : std::string_view("?");
}
} // namespace

std::string_view name_of(data_type v) noexcept {
    static constexpr std::array<std::string_view, 11> n{
        "Initiator's pre-shared key message", "Verification message of a pre-shared key message",
        "Initiator's public-key transport message", "Verification message of a public-key message",
        "Initiator's DH exchange message", "Responder's DH exchange message", "Error message",
        "Initiator's DHHMAC exchange message", "Responder's DHHMAC exchange message",
        "Initiator's RSA-R message", "Responder's RSA-R message"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(payload_type v) noexcept {
    static constexpr std::array<std::string_view, 22> n{
        "Last payload", "KEMAC", "PKE", "DH", "SIGN", "T", "ID", "CERT", "CHASH", "V", "SP", "RAND", "ERR", "",
        "IDR", "", "", "", "", "", "Key data", "General Ext."};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(encr_alg v) noexcept {
    static constexpr std::array<std::string_view, 3> n{"NULL", "AES-CM-128", "AES-KW-128"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(mac_alg v) noexcept {
    static constexpr std::array<std::string_view, 2> n{"NULL", "HMAC-SHA-1-160"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(ts_type v) noexcept {
    static constexpr std::array<std::string_view, 3> n{"NTP-UTC", "NTP", "COUNTER"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(key_data_type v) noexcept {
    static constexpr std::array<std::string_view, 4> n{"TGK", "TGK+SALT", "TEK", "TEK+SALT"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(kv_type v) noexcept {
    static constexpr std::array<std::string_view, 3> n{"Null", "SPI/MKI", "Interval"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(dh_group v) noexcept {
    static constexpr std::array<std::string_view, 3> n{"OAKLEY 5", "OAKLEY 1", "OAKLEY 2"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(error_no v) noexcept {
    static constexpr std::array<std::string_view, 13> n{
        "Authentication failure", "Invalid timestamp", "PRF function not supported", "MAC algorithm not supported",
        "Encryption algorithm not supported", "Hash function not supported", "DH group not supported",
        "ID not supported", "Certificate not supported", "SP type not supported", "SP parameters not supported",
        "Data type not supported", "Unspecified error"};
    return pick(n, static_cast<unsigned>(v));
}
std::string_view name_of(srtp_param v) noexcept {
    static constexpr std::array<std::string_view, 21> n{
        "Encryption algorithm", "Session Encr. key length", "Authentication algorithm", "Session Auth. key length",
        "Session Salt key length", "SRTP Pseudo Random Function", "Key derivation rate", "SRTP encryption off/on",
        "SRTCP encryption off/on", "Sender's FEC order", "SRTP authentication off/on", "Authentication tag length",
        "SRTP prefix length", "", "", "", "", "", "", "", "AEAD authentication tag length"};
    return pick(n, static_cast<unsigned>(v));
}

} // namespace srtpo::cp::mikey
