#include "demo.hpp"

#include "pcap_crypto.hpp"

#include <srtpo/engine/rtp_header.hpp>
#include <srtpo/engine/sdes_inline.hpp>
#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/rtp_capture_gen.hpp>
#include <srtpo/net/udp_frame.hpp>

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <vector>

namespace srtpo::tools {
namespace fs = std::filesystem;

namespace {

/// One random SDES key per stream, the same rules for the sender and the receiver.
engine::result<std::pair<flow_keys, flow_keys>> key_streams(const net::rtp_capture_summary& sum, const demo_options& o) {
    auto s = engine::suite_from_name(o.suite);
    if (!s) return engine::make_error(engine::errc::unknown_suite, "unknown suite '" + o.suite + "'");
    std::pair<flow_keys, flow_keys> k;
    std::vector<std::byte> ks(engine::traits(*s).key_salt_len());
    for (const auto& st : sum.streams) {
        if (RAND_bytes(reinterpret_cast<unsigned char*>(ks.data()), static_cast<int>(ks.size())) != 1)
            return engine::make_error(engine::errc::backend_failure, "RAND_bytes failed");
        auto inl = engine::encode_sdes_inline(ks);
        if (!inl) return inl.err();
        key_spec spec{o.suite, *inl, 0, 128, o.backend};
        for (auto dir : {engine::direction::protect, engine::direction::unprotect}) {
            auto sess = make_session_from(spec, dir);
            if (!sess) return sess.err();
            flow_rule r;
            r.ssrc = st.ssrc;
            r.session = std::move(sess.value());
            (dir == engine::direction::protect ? k.first : k.second).rules.push_back(std::move(r));
        }
    }
    return k;
}

/// Copies `in` to `out`, flipping one payload bit in every nth RTP packet. Returns the indices
/// of the frames it changed.
std::set<uint64_t> tamper(const std::string& in, const std::string& out, uint32_t nth) {
    std::set<uint64_t> changed;
    net::pcap_reader r(in);
    net::pcap_writer w(out, r.dlt());
    std::vector<std::byte> buf;
    uint64_t idx = 0, rtp = 0;
    while (auto rec = r.next()) {
        buf.assign(rec->data.begin(), rec->data.end());
        auto f = net::parse_udp_frame(buf, *r.link());
        if (f.ok() && f.payload_len > 40 && !engine::is_rtcp_payload_type(static_cast<uint8_t>(buf[f.payload_offset + 1])) &&
            nth && ++rtp % nth == 0) {
            buf[f.payload_offset + 20] ^= std::byte{0x01};
            changed.insert(idx);
        }
        w.write(rec->timestamp, buf);
        ++idx;
    }
    return changed;
}

} // namespace

int run_demo(const demo_options& o) {
    try {
        std::string dir = o.workdir;
        if (dir.empty()) {
            char tmpl[] = "/tmp/srtpo-demo.XXXXXX";
            if (!mkdtemp(tmpl)) throw std::runtime_error("cannot create a temporary directory");
            dir = tmpl;
        }
        fs::create_directories(dir);
        const std::string plain = dir + "/plain.pcap", prot = dir + "/srtp.pcap", tampered = dir + "/srtp-tampered.pcap",
                          out = dir + "/decrypted.pcap";

        net::rtp_capture_options g;
        g.calls = o.calls;
        g.packets_per_direction = o.packets;
        g.seed = 2026;
        g.initial_seq = 65535 - o.packets / 2; // every stream's ROC rolls over mid-call
        const auto sum = net::write_rtp_capture(plain, g);
        std::cout << "demo: generated " << o.calls << " calls, " << sum.streams.size() << " streams, " << sum.rtp_packets
                  << " RTP + " << sum.rtcp_packets << " RTCP packets -> " << plain << "\n";

        auto keys = key_streams(sum, o);
        if (!keys) throw std::runtime_error(keys.err().message);
        auto w = engine::worker_ctx::create();
        if (!w) throw std::runtime_error(w.err().message);
        std::cout << "demo: suite " << o.suite << ", backend " << engine::backend_description(o.backend)
                  << ", one random key per stream\n";

        const auto ps = process_capture(plain, prot, mode::protect, keys->first, **w, {});
        std::cout << "protect:   " << summary_line(ps) << "\n";
        const auto changed = tamper(prot, tampered, o.tamper_every);
        std::cout << "tamper:    flipped one bit in " << changed.size() << " SRTP packets\n";
        const auto us = process_capture(tampered, out, mode::unprotect, keys->second, **w, {});
        std::cout << "unprotect: " << summary_line(us) << "\n";

        // Verify: every frame that was not tampered with comes back byte-identical, in order.
        net::pcap_reader a(plain), b(out);
        uint64_t idx = 0, same = 0, differ = 0;
        while (auto ra = a.next()) {
            const bool was_tampered = changed.count(idx++) != 0;
            if (was_tampered) continue;
            auto rb = b.next();
            if (!rb || rb->data.size() != ra->data.size() || !std::equal(ra->data.begin(), ra->data.end(), rb->data.begin())) ++differ;
            else ++same;
        }
        const bool ok = differ == 0 && us.by_status[engine::status::auth_fail] == changed.size() &&
                        ps.by_status[engine::status::ok] == sum.rtp_packets + sum.rtcp_packets;
        std::cout << "verify:    " << same << " frames decrypted byte-identical to the original, " << differ
                  << " differ; " << us.by_status[engine::status::auth_fail] << " tampered packets rejected (expected "
                  << changed.size() << ") -> " << (ok ? "PASS" : "FAIL") << "\n";
        if (o.json) std::cout << "{\"protect\":" << summary_json(ps) << ",\"unprotect\":" << summary_json(us) << "}\n";
        if (o.workdir.empty()) fs::remove_all(dir);
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "srtpo-pcap demo: " << e.what() << "\n";
        return 1;
    }
}

} // namespace srtpo::tools
