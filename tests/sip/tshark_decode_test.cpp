// tshark (Wireshark's SIP and SDP dissectors) as an independent decoder of what we serialize:
// an INVITE with our SDES offer, a 488 with Warning and a 503 with Retry-After are wrapped in
// UDP by text2pcap and every field tshark reports is compared with what we meant to send.

#include "peer_process.hpp"

#include <srtpo/cp/sdes/negotiation.hpp>
#include <srtpo/cp/sdes/sdp_crypto.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace srtpo::cp {
namespace {

// text2pcap's input: one hex dump per packet, offsets restarting at 0.
void write_hexdump(const std::string& path, const std::vector<std::string>& packets) {
    std::ofstream f(path);
    for (const auto& p : packets) {
        for (std::size_t i = 0; i < p.size(); i += 16) {
            char off[24];
            std::snprintf(off, sizeof off, "%06zx", i);
            f << off;
            for (std::size_t j = i; j < std::min(p.size(), i + 16); ++j) {
                char h[4];
                std::snprintf(h, sizeof h, " %02x", static_cast<unsigned char>(p[j]));
                f << h;
            }
            f << "\n";
        }
        f << "\n";
    }
}

std::string hex(std::span<const std::byte> b) {
    std::string s;
    for (auto x : b) {
        char h[3];
        std::snprintf(h, sizeof h, "%02x", static_cast<unsigned>(x));
        s += h;
    }
    return s;
}

std::vector<std::vector<std::string>> tshark_fields(const std::string& pcap, const std::vector<std::string>& fields) {
    std::vector<std::string> argv{"timeout", "20", "tshark", "-r", pcap, "-d", "udp.port==5060,sip", "-T", "fields",
                                  "-E", "separator=|", "-E", "occurrence=f"};
    for (const auto& f : fields) argv.insert(argv.end(), {"-e", f});
    std::string out;
    EXPECT_EQ(test::run(argv, out, 25000), 0) << out;
    std::vector<std::vector<std::string>> rows;
    std::stringstream ss(out);
    std::string line;
    while (std::getline(ss, line)) {
        if (line.find('|') == std::string::npos) continue; // tshark's own notices
        std::vector<std::string> row;
        std::stringstream ls(line);
        std::string cell;
        while (std::getline(ls, cell, '|')) row.push_back(cell);
        row.resize(fields.size());
        rows.push_back(row);
    }
    return rows;
}

TEST(TsharkDecode, OurInviteAndErrorResponses) {
    ASSERT_TRUE(test::in_path("tshark") && test::in_path("text2pcap")) << "install tshark (scripts/install-deps.sh)";
    test::temp_dir dir;

    sdes::policy pol;
    pol.preference = {engine::suite::aes_cm_128_hmac_sha1_80};
    pol.lifetime = uint64_t{1} << 31;
    pol.mki_length = 4;
    auto offer = sdes::make_offer(pol);
    ASSERT_TRUE(offer);
    auto sd = sdp::parse("v=0\r\no=srtpo 7 7 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
                         "m=audio 30000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
    ASSERT_TRUE(sd);
    ASSERT_TRUE(sdes::set_crypto_attributes(sd->media[0], offer->offered));

    sip::message inv;
    inv.method = "INVITE";
    inv.request_uri = "sip:bob@example.com";
    inv.add_header("v", "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKtshark1");
    inv.add_header("Max-Forwards", "70");
    inv.add_header("f", "<sip:alice@example.com>;tag=from1");
    inv.add_header("t", "<sip:bob@example.com>");
    inv.add_header("i", "tshark-1@203.0.113.5");
    inv.add_header("CSeq", "4711 INVITE");
    inv.add_header("Content-Type", "application/sdp");
    inv.body = sdp::serialize(*sd);
    const std::string inv_wire = sip::serialize(inv);
    auto parsed = sip::parse_message(inv_wire);
    ASSERT_TRUE(parsed);

    auto r488 = sip::make_488(*parsed, "to488", sip::warn_code::incompatible_media_format, "sbc.example.com",
                              "no common SRTP crypto-suite");
    auto r503 = sip::make_503(*parsed, "to503", 17);
    write_hexdump(dir.path() + "/in.txt", {inv_wire, sip::serialize(r488), sip::serialize(r503)});
    std::string out;
    ASSERT_EQ(test::run({"timeout", "20", "text2pcap", "-q", "-u", "5060,5060", dir.path() + "/in.txt",
                         dir.path() + "/sip.pcap"}, out, 25000), 0) << out;

    auto rows = tshark_fields(dir.path() + "/sip.pcap",
                              {"sip.Method", "sip.Status-Code", "sip.Call-ID", "sip.CSeq.seq", "sip.from.tag",
                               "sip.to.tag", "sip.Via.branch", "sip.Warning", "sip.Retry-After",
                               "sdp.media.port", "sdp.media.proto", "sdp.connection_info.address",
                               "sdp.crypto.tag", "sdp.crypto.crypto_suite", "sdp.crypto.master_key",
                               "sdp.crypto.master_salt", "sdp.crypto.mki-valu", "sdp.crypto.mki_length"});
    ASSERT_EQ(rows.size(), 3u);
    const auto& i = rows[0];
    EXPECT_EQ(i[0], "INVITE");
    EXPECT_EQ(i[2], "tshark-1@203.0.113.5");
    EXPECT_EQ(i[3], "4711");
    EXPECT_EQ(i[4], "from1");
    EXPECT_EQ(i[6], "z9hG4bKtshark1");
    EXPECT_EQ(i[9], "30000");
    EXPECT_EQ(i[10], "RTP/SAVP");
    EXPECT_EQ(i[11], "203.0.113.5");
    EXPECT_EQ(i[12], "1");
    EXPECT_EQ(i[13], "AES_CM_128_HMAC_SHA1_80");
    // Wireshark splits inline: into master key and salt (RFC 4568 §6.1): they must be ours.
    const auto ks = offer->offered[0].keys[0].key_salt.bytes();
    std::string key_hex = i[14], salt_hex = i[15];
    std::erase(key_hex, ':');
    std::erase(salt_hex, ':');
    EXPECT_EQ(key_hex, hex(ks.first(16)));
    EXPECT_EQ(salt_hex, hex(ks.subspan(16)));
    EXPECT_EQ(i[16], "1");
    EXPECT_EQ(i[17], "4");

    EXPECT_EQ(rows[1][1], "488");
    EXPECT_EQ(rows[1][5], "to488");
    EXPECT_EQ(rows[1][3], "4711");
    EXPECT_NE(rows[1][7].find("305 sbc.example.com \"no common SRTP crypto-suite\""), std::string::npos) << rows[1][7];
    EXPECT_EQ(rows[2][1], "503");
    EXPECT_EQ(rows[2][8], "17");
}

} // namespace
} // namespace srtpo::cp
