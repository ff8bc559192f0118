#include <srtpo/cp/zrtp/show.hpp>

#include "hex.hpp"

namespace srtpo::cp::zrtp {

std::string show(const endpoint_info& i) {
    static constexpr std::string_view roles[] = {"undecided", "initiator", "responder"};
    std::string s;
    auto line = [&](std::string_view k, std::string_view v) {
        s.append(k).append(": ").append(v).push_back('\n');
    };
    line("state", to_string(i.st));
    line("role", roles[static_cast<std::size_t>(i.r)]);
    line("mode", !i.negotiated ? "-" : i.multistream ? "multistream" : "dh");
    if (i.negotiated) {
        line("hash", name(i.algorithms.hash));
        line("cipher", name(i.algorithms.cipher));
        line("auth_tag", name(i.algorithms.auth));
        line("key_agreement", name(i.algorithms.ka));
        auto sas = std::string(name(i.algorithms.sas));
        line("sas_type", sas.substr(0, sas.find(' ')));
    }
    line("sas", i.sas.empty() ? "-" : i.sas);
    line("sas_verified", i.sas_verified ? "yes" : "no");
    line("peer_sas_verified", i.peer_sas_verified ? "yes" : "no");
    line("cache", to_string(i.cache));
    line("peer_zid", i.st == state::idle ? "-" : to_hex(i.peer_zid));
    line("last_error", i.last_error ? "0x" + hex_u32(i.last_error) + " " + std::string(describe(static_cast<error_code>(i.last_error)))
                                    : "-");
    if (!i.failure.empty()) line("failure", i.failure);
    return s;
}

} // namespace srtpo::cp::zrtp
