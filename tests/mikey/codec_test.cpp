// MIKEY codec (RFC 3830 §6): hand-assembled wire images of each payload, round trips of every
// payload and field variant, and every decode error path (truncation at every length, bad
// enumerations, trailing octets) and encode limit.
#include <srtpo/cp/mikey/message.hpp>

#include "hex_util.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace srtpo::cp::mikey;
using mikey_test::hex;
using mikey_test::unhex;

namespace {


message roundtrip(const message& m) {
    auto enc = encode(m);
    EXPECT_TRUE(enc) << enc.err().message;
    auto dec = decode(*enc);
    EXPECT_TRUE(dec) << dec.err().message;
    EXPECT_EQ(dec->hdr, m.hdr);
    EXPECT_EQ(dec->payloads.size(), m.payloads.size());
    for (std::size_t i = 0; i < m.payloads.size() && i < dec->payloads.size(); ++i) {
        if (auto* k = std::get_if<kemac_payload>(&m.payloads[i])) {
            EXPECT_EQ(std::get<kemac_payload>(dec->payloads[i]), *k);
        }
        EXPECT_TRUE(dec->payloads[i] == m.payloads[i]) << "payload " << i;
    }
    // Re-encoding the decoded message gives the same octets.
    auto again = encode(*dec);
    EXPECT_TRUE(again);
    EXPECT_EQ(*again, *enc);
    return *dec;
}

key_data kd(key_data_type t, std::size_t klen, std::size_t slen, key_validity kv = {}) {
    key_data k;
    k.type = t;
    bytes key(klen), salt(slen);
    for (std::size_t i = 0; i < klen; ++i) key[i] = static_cast<uint8_t>(i);
    for (std::size_t i = 0; i < slen; ++i) salt[i] = static_cast<uint8_t>(0xa0 + i);
    k.key = secret_bytes(key);
    if (slen) k.salt = secret_bytes(salt);
    k.kv = std::move(kv);
    return k;
}

/// A message carrying one payload of every kind the codec knows.
message every_payload() {
    message m;
    m.hdr.type = data_type::pk_init;
    m.hdr.v = true;
    m.hdr.csb_id = 0xdeadbeef;
    m.hdr.cs = {{0, 0x11223344, 0}, {1, 0x55667788, 0xffffffff}};
    m.payloads.emplace_back(t_payload{ts_type::ntp, 0x0102030405060708ull});
    m.payloads.emplace_back(rand_payload{bytes(16, 0x5a)});
    m.payloads.emplace_back(id_payload{id_type::uri, {'s', 'i', 'p', ':', 'a', '@', 'b'}});
    m.payloads.emplace_back(idr_payload{id_role::kms, id_type::nai, {'k', 'm', 's'}});
    m.payloads.emplace_back(cert_payload{cert_type::x509v3_url, {'h', 't', 't', 'p'}});
    m.payloads.emplace_back(chash_payload{hash_func::md5, bytes(16, 7)});
    sp_payload sp;
    sp.policy_no = 1;
    for (uint8_t t = 0; t <= 12; ++t) sp.add(static_cast<srtp_param>(t), t, t == 6 ? 4 : 1);
    sp.add(srtp_param::aead_auth_tag_len, 16);
    m.payloads.emplace_back(sp);
    kemac_plaintext pt;
    pt.keys.push_back(kd(key_data_type::tgk, 32, 0));
    pt.keys.push_back(kd(key_data_type::tek_salt, 16, 14, key_validity{kv_type::spi, {1, 2, 3, 4}, {}, {}}));
    pt.keys.push_back(kd(key_data_type::tgk_salt, 16, 14, key_validity{kv_type::interval, {}, {0, 0, 0, 1}, {0, 1, 0, 0, 0, 0}}));
    pt.keys.push_back(kd(key_data_type::tek, 16, 0));
    auto plain = encode_kemac_plaintext(pt);
    EXPECT_TRUE(plain);
    m.payloads.emplace_back(kemac_payload{encr_alg::null, bytes(plain->view().begin(), plain->view().end()), mac_alg::hmac_sha1_160, bytes(20, 9)});
    m.payloads.emplace_back(pke_payload{pke_cache::for_csb, bytes(300, 3)});
    for (auto g : {dh_group::oakley5, dh_group::oakley1, dh_group::oakley2})
        m.payloads.emplace_back(dh_payload{g, bytes(dh_value_len(g), 0x42), key_validity{kv_type::spi, {9}, {}, {}}});
    m.payloads.emplace_back(v_payload{mac_alg::hmac_sha1_160, bytes(20, 1)});
    m.payloads.emplace_back(v_payload{mac_alg::null, {}});
    m.payloads.emplace_back(err_payload{error_no::invalid_sppar});
    m.payloads.emplace_back(general_ext_payload{1, {'s', 'd', 'p'}});
    m.payloads.emplace_back(sign_payload{sign_type::rsa_pss, bytes(256, 0xee)});
    return m;
}

} // namespace

TEST(MikeyCodec, HeaderWireImageSrtpIdMap) {
    // RFC 3830 §6.1: version 1, data type 0 (PSK init), next payload T (5), V=1 PRF 0,
    // CSB ID, #CS 1, map type SRTP-ID, then policy 0 / SSRC / ROC (§6.1.1); T NTP-UTC (§6.6).
    const bytes wire = unhex("01" "00" "05" "80" "cafe0001" "01" "00" "00" "12345678" "00000003"
                             "00" "00" "0102030405060708");
    auto m = decode(wire);
    ASSERT_TRUE(m) << m.err().message;
    EXPECT_EQ(m->hdr.type, data_type::psk_init);
    EXPECT_TRUE(m->hdr.v);
    EXPECT_EQ(m->hdr.csb_id, 0xcafe0001u);
    ASSERT_EQ(m->hdr.cs.size(), 1u);
    EXPECT_EQ(m->hdr.cs[0], (srtp_cs{0, 0x12345678, 3}));
    ASSERT_EQ(m->payloads.size(), 1u);
    EXPECT_EQ(std::get<t_payload>(m->payloads[0]), (t_payload{ts_type::ntp_utc, 0x0102030405060708ull}));
    auto enc = encode(*m);
    ASSERT_TRUE(enc);
    EXPECT_EQ(*enc, wire);
}

TEST(MikeyCodec, KemacWireImage) {
    // HDR with the Empty map (RFC 4563), KEMAC (§6.2) NULL/NULL holding a KEY_DATA (§6.13)
    // of type TEK+SALT (3), KV SPI (1): key len 2, key, salt len 1, salt, SPI len 1, SPI.
    const bytes wire = unhex("01" "06" "01" "00" "00000000" "00" "01"
                             "00" "00" "000b" "00" "3" "1" "0002" "aabb" "0001" "cc" "01" "dd" "00");
    auto m = decode(wire);
    ASSERT_TRUE(m) << m.err().message;
    EXPECT_EQ(m->hdr.map_type, cs_id_map_type::empty);
    const auto& k = std::get<kemac_payload>(m->payloads[0]);
    EXPECT_EQ(k.encr, encr_alg::null);
    EXPECT_EQ(k.mac, mac_alg::null);
    auto pt = decode_kemac_plaintext(k.encr_data);
    ASSERT_TRUE(pt) << pt.err().message;
    ASSERT_EQ(pt->keys.size(), 1u);
    EXPECT_EQ(pt->keys[0].type, key_data_type::tek_salt);
    EXPECT_TRUE(pt->keys[0].key.equals(bytes{0xaa, 0xbb}));
    EXPECT_TRUE(pt->keys[0].salt.equals(bytes{0xcc}));
    EXPECT_EQ(pt->keys[0].kv.spi, (bytes{0xdd}));
    EXPECT_EQ(*encode(*m), wire);
}

TEST(MikeyCodec, EveryDataTypeAndMap) {
    for (uint8_t dt = 0; dt <= 10; ++dt) {
        message m;
        m.hdr.type = static_cast<data_type>(dt);
        m.hdr.csb_id = dt;
        m.payloads.emplace_back(t_payload{ts_type::counter, 0x01020304});
        roundtrip(m);
        m.hdr.map_type = cs_id_map_type::empty;
        m.hdr.cs.clear();
        roundtrip(m);
    }
    message m;
    for (uint32_t i = 0; i < 255; ++i) m.hdr.cs.push_back({static_cast<uint8_t>(i), i, ~i});
    EXPECT_EQ(roundtrip(m).hdr.cs.size(), 255u);
    m.hdr.cs.push_back({});
    EXPECT_FALSE(encode(m)) << "256 crypto sessions do not fit #CS";
}

TEST(MikeyCodec, EveryPayloadRoundTrips) {
    const message m = every_payload();
    const message d = roundtrip(m);
    const auto& k = *d.find<kemac_payload>();
    auto pt = decode_kemac_plaintext(k.encr_data);
    ASSERT_TRUE(pt) << pt.err().message;
    ASSERT_EQ(pt->keys.size(), 4u);
    EXPECT_EQ(pt->keys[0], kd(key_data_type::tgk, 32, 0));
    EXPECT_EQ(pt->keys[2].kv.valid_to, (bytes{0, 1, 0, 0, 0, 0}));
    EXPECT_EQ(pt->keys[3].type, key_data_type::tek);
    EXPECT_EQ(d.find<sp_payload>()->uint(srtp_param::kdr), 6u);
    EXPECT_EQ(d.spans.size(), d.payloads.size());
    // The auth field of SIGN points at its signature: the last 256 octets.
    EXPECT_EQ(d.spans.back().auth_field + 256, d.spans.back().end);
}

TEST(MikeyCodec, PkModeKemacStartsWithId) {
    kemac_plaintext pt;
    pt.ids.push_back(id_payload{id_type::uri, {'a'}});
    pt.keys.push_back(kd(key_data_type::tgk, 16, 0));
    auto b = encode_kemac_plaintext(pt);
    ASSERT_TRUE(b);
    auto d = decode_kemac_plaintext(b->view(), true);
    ASSERT_TRUE(d) << d.err().message;
    EXPECT_EQ(d->ids.size(), 1u);
    EXPECT_EQ(d->keys.size(), 1u);
    EXPECT_FALSE(decode_kemac_plaintext(b->view(), false)) << "an ID read as KEY_DATA must not pass";
}

TEST(MikeyCodec, TruncationAtEveryLengthIsAnError) {
    auto enc = encode(every_payload());
    ASSERT_TRUE(enc);
    for (std::size_t n = 0; n < enc->size(); ++n) {
        auto d = decode(std::span<const uint8_t>(enc->data(), n));
        EXPECT_FALSE(d) << "prefix of " << n << " octets decoded";
        if (!d) {
            EXPECT_FALSE(d.err().message.empty());
        }
    }
}

TEST(MikeyCodec, KemacPlaintextTruncationIsAnError) {
    kemac_plaintext pt;
    pt.keys.push_back(kd(key_data_type::tek_salt, 16, 14, key_validity{kv_type::interval, {}, {1}, {2}}));
    pt.keys.push_back(kd(key_data_type::tgk, 16, 0, key_validity{kv_type::spi, {1}, {}, {}}));
    auto b = encode_kemac_plaintext(pt);
    ASSERT_TRUE(b);
    for (std::size_t n = 0; n < b->size(); ++n) EXPECT_FALSE(decode_kemac_plaintext(b->view().first(n))) << n;
    bytes extra(b->view().begin(), b->view().end());
    extra.push_back(0);
    EXPECT_FALSE(decode_kemac_plaintext(extra));
}

namespace {
std::string decode_error(const std::string& hex) {
    auto d = decode(unhex(hex));
    return d ? std::string("decoded") : d.err().message;
}
const std::string hdr_t = "01000580cafe00010000"; // HDR, next T, #CS 0, SRTP-ID
} // namespace

TEST(MikeyCodec, PreciseDecodeErrors) {
    EXPECT_NE(decode_error("02000000000000000000").find("version"), std::string::npos);
    EXPECT_NE(decode_error("010b0000000000000000").find("data type 11"), std::string::npos);
    EXPECT_NE(decode_error("01000001000000000000").find("PRF"), std::string::npos);
    EXPECT_NE(decode_error("01000000000000000002").find("map type 2"), std::string::npos);
    EXPECT_NE(decode_error("01000d00000000000000" "0000").find("payload type 13"), std::string::npos);
    EXPECT_NE(decode_error("01001400000000000000" "0000").find("payload type 20"), std::string::npos)
        << "KEY_DATA is only a KEMAC sub-payload";
    EXPECT_NE(decode_error(hdr_t + "0003" "0000000000000000").find("TS type 3"), std::string::npos);
    EXPECT_NE(decode_error("01000b00000000000000" "000f" + std::string(30, '0')).find("RAND"), std::string::npos);
    EXPECT_NE(decode_error(hdr_t + "0000" "0000000000000000" "00").find("after the last payload"), std::string::npos);
    EXPECT_NE(decode_error("01000100000000000000" "00030000" "00").find("encr alg 3"), std::string::npos);
    EXPECT_NE(decode_error("01000100000000000000" "00000000" "02").find("MAC alg 2"), std::string::npos);
    EXPECT_NE(decode_error("01000300000000000000" "0003").find("DH group 3"), std::string::npos);
    EXPECT_NE(decode_error("01000400000000000000" "2000").find("S type 2"), std::string::npos);
    EXPECT_NE(decode_error("01000a00000000000000" "0000010000").find("not SRTP"), std::string::npos);
    EXPECT_NE(decode_error("01000a00000000000000" "000000" "0003" "000500").find("SP param value"), std::string::npos);
    EXPECT_NE(decode_error("01000c00000000000000" "000d0000").find("err no 13"), std::string::npos);
    EXPECT_NE(decode_error("01000600000000000000" "00030000").find("ID type 3"), std::string::npos);
    EXPECT_NE(decode_error("01000e00000000000000" "0006000000").find("IDR role 6"), std::string::npos);
    EXPECT_NE(decode_error("01000700000000000000" "00040000").find("CERT type 4"), std::string::npos);
    EXPECT_NE(decode_error("01000800000000000000" "0002").find("hash func 2"), std::string::npos);
    EXPECT_NE(decode_error("01000200000000000000" "00c000").find("PKE C 3"), std::string::npos);
    EXPECT_NE(decode_error("01000900000000000000" "0005").find("MAC alg 5"), std::string::npos);
    EXPECT_FALSE(decode(bytes(max_message_len + 1, 1)));
    // 65 empty ERR payloads: more than max_payloads.
    std::string many = "01000c00000000000000";
    for (int i = 0; i < 65; ++i) many += (i == 64 ? "00" : "0c") + std::string("000000");
    EXPECT_NE(decode_error(many).find("64 payloads"), std::string::npos);
}

TEST(MikeyCodec, EncodeRejectsWhatDoesNotFit) {
    message m;
    m.payloads.emplace_back(sign_payload{sign_type::rsa_pkcs1_v1_5, bytes(10)});
    m.payloads.emplace_back(t_payload{});
    EXPECT_FALSE(encode(m)) << "SIGN must be last";
    auto one = [](payload p) {
        message x;
        x.payloads.push_back(std::move(p));
        return encode(x);
    };
    EXPECT_FALSE(one(sign_payload{sign_type::rsa_pkcs1_v1_5, bytes(4096)}));
    EXPECT_TRUE(one(sign_payload{sign_type::rsa_pkcs1_v1_5, bytes(4095)}));
    EXPECT_FALSE(one(rand_payload{bytes(256)}));
    EXPECT_FALSE(one(kemac_payload{encr_alg::null, {}, mac_alg::hmac_sha1_160, bytes(19)}));
    EXPECT_FALSE(one(v_payload{mac_alg::null, bytes(1)}));
    EXPECT_FALSE(one(dh_payload{dh_group::oakley2, bytes(127), {}}));
    EXPECT_FALSE(one(pke_payload{pke_cache::none, bytes(1 << 14)}));
    EXPECT_FALSE(one(chash_payload{hash_func::sha1, bytes(16)}));
    EXPECT_FALSE(one(t_payload{ts_type::counter, 1ull << 32}));
    EXPECT_FALSE(one(id_payload{id_type::uri, bytes(65536)}));
    EXPECT_FALSE(one(general_ext_payload{0, bytes(65536)}));
    sp_payload sp;
    sp.params.push_back(sp_param{0, bytes(256)});
    EXPECT_FALSE(one(sp));
    kemac_plaintext pt;
    pt.keys.push_back(kd(key_data_type::tek, 16, 14));
    EXPECT_FALSE(encode_kemac_plaintext(pt)) << "a salt on TEK";
}

TEST(MikeyCodec, NtpConversion) {
    const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000) + std::chrono::milliseconds(250));
    const uint64_t n = ntp_from_time(t);
    EXPECT_EQ(n >> 32, 1700000000ull + 2208988800ull);
    EXPECT_EQ(n & 0xffffffffull, 0x40000000ull);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(time_from_ntp(n) - t).count(), 0);
}
