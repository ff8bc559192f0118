// Prints one MIKEY message per line ("name hex") from every mode and message kind we produce,
// for the tshark check (tshark_test.py): PSK I/R (AES-CM + HMAC, and NULL/NULL), DH I/R over
// every group, DHHMAC I/R, PK I/R, an ERR message, and one message with every other payload.
#include "test_pki.hpp"

#include <srtpo/cp/mikey/exchange.hpp>

#include <cstdio>
#include <string>

using namespace srtpo::cp::mikey;

namespace {
void put(const std::string& name, const bytes& b) {
    std::printf("%s ", name.c_str());
    for (auto c : b) std::printf("%02x", c);
    std::printf("\n");
}
} // namespace

int main() {
    const auto now = std::chrono::system_clock::now();
    auto a = mikey_test::make_rsa_identity("alice"), b = mikey_test::make_rsa_identity("bob");
    replay_cache cache;
    responder_config rc;
    rc.cred.psk = secret_bytes(bytes(16, 1));
    rc.cred.own_id = {'s', 'i', 'p', ':', 'b', '@', 'x'};
    rc.cred.own_key = *signer::from_pem(b.first, b.second);
    rc.cred.trust = *trust_store::from_pem(a.second);
    rc.replay = &cache;
    rc.allow_null_encr = rc.allow_null_mac = true;
    responder resp(rc);
    struct run { std::string name; mode m; dh_group g; bool null; };
    const run runs[] = {{"psk", mode::psk, dh_group::oakley5, false}, {"psk_null", mode::psk, dh_group::oakley5, true},
                        {"dh_oakley5", mode::dh, dh_group::oakley5, false}, {"dh_oakley1", mode::dh, dh_group::oakley1, false},
                        {"dh_oakley2", mode::dh, dh_group::oakley2, false}, {"dhhmac", mode::dhhmac, dh_group::oakley2, false},
                        {"pk", mode::pk, dh_group::oakley5, false}};
    for (const auto& r : runs) {
        initiator_config c;
        c.m = r.m;
        c.group = r.g;
        c.cred.psk = secret_bytes(bytes(16, 1));
        c.cred.own_id = {'s', 'i', 'p', ':', 'a', '@', 'x'};
        c.cred.own_key = *signer::from_pem(a.first, a.second);
        c.cred.peer_cert = *cert_der_from_pem(b.second);
        c.send_chash = false; // tshark stops at CHASH (see "chash" below); PKE and SIGN must be seen
        c.streams = {{0x11111111, 0}, {0x22222222, 1}};
        if (r.null) {
            c.kemac_encr = encr_alg::null;
            c.kemac_mac = mac_alg::null;
            c.transport = key_data_type::tek_salt;
        }
        auto in = initiator::start(c, now);
        if (!in) return 1;
        put(r.name + "_i", in->i_message());
        auto out = resp.handle(in->i_message(), now);
        if (!out.ok()) return 2;
        if (!out.reply.empty()) put(r.name + "_r", out.reply);
    }
    put("error", make_error_message(0x01020304, error_no::invalid_sppar, now));
    // The remaining payloads: ID, CERT, V, PKE, GENERAL EXT, KEY_DATA with KV SPI and
    // interval, in an (unprotected) PK-shaped message.
    message m;
    m.hdr.type = data_type::pk_init;
    m.hdr.csb_id = 0x0badcafe;
    m.hdr.cs = {{0, 0x33333333, 0}};
    m.payloads.emplace_back(t_payload{ts_type::ntp_utc, ntp_from_time(now)});
    m.payloads.emplace_back(rand_payload{bytes(16, 0x77)});
    m.payloads.emplace_back(id_payload{id_type::uri, {'s', 'i', 'p', ':', 'a'}});
    m.payloads.emplace_back(cert_payload{cert_type::x509v3_sign, (*signer::from_pem(a.first, a.second))->cert_der()});
    kemac_plaintext pt;
    key_data k1, k2;
    k1.type = key_data_type::tek_salt;
    k1.key = secret_bytes(bytes(16, 2));
    k1.salt = secret_bytes(bytes(14, 3));
    k1.kv = key_validity{kv_type::spi, {0, 0, 0, 1}, {}, {}};
    k2.type = key_data_type::tgk;
    k2.key = secret_bytes(bytes(16, 4));
    k2.kv = key_validity{kv_type::interval, {}, {0, 0, 0, 0, 0, 0}, {0, 0, 0xff, 0xff, 0xff, 0xff}};
    pt.keys.push_back(std::move(k1));
    pt.keys.push_back(std::move(k2));
    auto plain = encode_kemac_plaintext(pt);
    m.payloads.emplace_back(kemac_payload{encr_alg::null, bytes(plain->view().begin(), plain->view().end()), mac_alg::null, {}});
    m.payloads.emplace_back(pke_payload{pke_cache::always, bytes(128, 6)});
    m.payloads.emplace_back(general_ext_payload{0, {'s', 'r', 't', 'p', 'o'}});
    m.payloads.emplace_back(v_payload{mac_alg::hmac_sha1_160, bytes(20, 8)});
    m.payloads.emplace_back(sign_payload{sign_type::rsa_pkcs1_v1_5, bytes(256, 9)});
    auto e = encode(m);
    if (!e) return 3;
    put("every_payload", *e);
    // tshark 4.0 dissects CHASH's next-payload octet only and stops there (its CHASH is a
    // stub), so CHASH travels last in a message of its own.
    message h;
    h.hdr.type = data_type::pk_init;
    h.hdr.csb_id = 0x0badcaff;
    h.hdr.map_type = cs_id_map_type::empty;
    h.payloads.emplace_back(t_payload{ts_type::counter, 42});
    h.payloads.emplace_back(chash_payload{hash_func::sha1, bytes(20, 5)});
    auto he = encode(h);
    if (!he) return 4;
    put("chash", *he);
    return 0;
}
