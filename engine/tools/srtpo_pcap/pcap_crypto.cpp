#include "pcap_crypto.hpp"

#include <srtpo/engine/burst.hpp>
#include <srtpo/engine/rtp_header.hpp>
#include <srtpo/net/pcap_file.hpp>
#include <srtpo/net/udp_rewrite.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <sstream>
#include <vector>

namespace srtpo::tools {
namespace {

using clock_type = std::chrono::steady_clock;

enum class kind : uint8_t { other, rtp, rtcp };

struct slot {
    std::vector<std::byte> buf;
    std::size_t len = 0;
    std::chrono::nanoseconds ts{};
    net::udp_frame f;
    kind k = kind::other;
    std::size_t op = 0;
};

// Room for the largest UDP datagram plus what protect appends (E‖index, MKI, tag).
constexpr std::size_t slot_bytes = 65535 + 256;

uint32_t ssrc_of(const std::byte* p, kind k) noexcept {
    const std::size_t at = k == kind::rtp ? 8 : 4;
    return uint32_t{static_cast<uint8_t>(p[at])} << 24 | uint32_t{static_cast<uint8_t>(p[at + 1])} << 16 |
           uint32_t{static_cast<uint8_t>(p[at + 2])} << 8 | uint32_t{static_cast<uint8_t>(p[at + 3])};
}

} // namespace

run_stats process_capture(const std::string& in, const std::string& out, mode m, const flow_keys& keys, engine::worker_ctx& w,
                          const run_options& opt) {
    const auto t0 = clock_type::now();
    run_stats st;
    net::pcap_reader reader(in);
    const auto link = reader.link();
    if (!link) throw net::pcap_error(in + ": unsupported link type " + std::to_string(reader.dlt()));
    net::pcap_writer writer(out, reader.dlt());

    const std::size_t burst = std::max<std::size_t>(1, std::min(opt.burst, engine::max_burst));
    std::vector<slot> slots(burst);
    for (auto& s : slots) s.buf.resize(slot_bytes);
    std::vector<engine::op> rtp_ops, rtcp_ops;
    rtp_ops.reserve(burst);
    rtcp_ops.reserve(burst);
    const bool protect = m == mode::protect;

    auto flush = [&](std::size_t n) {
        if (!rtp_ops.empty() || !rtcp_ops.empty()) {
            const auto e0 = clock_type::now();
            if (!rtp_ops.empty()) protect ? engine::protect_rtp(w, rtp_ops) : engine::unprotect_rtp(w, rtp_ops);
            if (!rtcp_ops.empty()) protect ? engine::protect_rtcp(w, rtcp_ops) : engine::unprotect_rtcp(w, rtcp_ops);
            st.engine_seconds += std::chrono::duration<double>(clock_type::now() - e0).count();
        }
        for (std::size_t i = 0; i < n; ++i) {
            auto& s = slots[i];
            if (s.k == kind::other) {
                if (!opt.drop_other) {
                    writer.write(s.ts, {s.buf.data(), s.len});
                    ++st.written;
                }
                continue;
            }
            const auto& o = (s.k == kind::rtp ? rtp_ops : rtcp_ops)[s.op];
            st.by_status.add(o.st);
            if (o.st != engine::status::ok) continue;
            if (net::set_udp_payload_len({s.buf.data(), s.buf.size()}, s.f, o.pkt.len) != net::rewrite_status::ok) {
                st.by_status.add(engine::status::no_tailroom); // cannot happen with slot_bytes; counted, not hidden
                continue;
            }
            writer.write(s.ts, {s.buf.data(), s.f.frame_len});
            ++st.written;
        }
        rtp_ops.clear();
        rtcp_ops.clear();
    };

    std::size_t n = 0;
    while (auto rec = reader.next()) {
        ++st.frames;
        auto& s = slots[n];
        s.len = std::min(rec->data.size(), slot_bytes);
        std::memcpy(s.buf.data(), rec->data.data(), s.len);
        s.ts = rec->timestamp;
        s.k = kind::other;
        s.f = net::parse_udp_frame({s.buf.data(), s.len}, *link);
        if (!s.f.ok()) {
            ++st.not_udp[static_cast<std::size_t>(s.f.status)];
            ++st.passed_through;
        } else if (s.f.payload_len >= 8) {
            std::byte* p = s.buf.data() + s.f.payload_offset;
            const auto b0 = static_cast<uint8_t>(p[0]), b1 = static_cast<uint8_t>(p[1]);
            // RFC 7983 §7: 128..191 is RTP or RTCP; RFC 5761 §4 tells them apart by the PT.
            if (b0 >= 128 && b0 <= 191) {
                const kind k = engine::is_rtcp_payload_type(b1) ? kind::rtcp : kind::rtp;
                if ((k == kind::rtp && s.f.payload_len < 12)) {
                    ++st.passed_through;
                } else if (engine::session_rt* sess = keys.find(s.f, ssrc_of(p, k))) {
                    s.k = k;
                    auto& ops = k == kind::rtp ? rtp_ops : rtcp_ops;
                    s.op = ops.size();
                    const auto cap = static_cast<uint16_t>(std::min<std::size_t>(65535, slot_bytes - s.f.payload_offset));
                    ops.push_back({sess, {p, static_cast<uint16_t>(s.f.payload_len), cap}, engine::status::ok});
                    ++(k == kind::rtp ? st.rtp : st.rtcp);
                } else {
                    ++st.no_key;
                    ++st.passed_through;
                }
            } else {
                ++st.passed_through;
            }
        } else {
            ++st.passed_through;
        }
        if (++n == burst) {
            flush(n);
            n = 0;
        }
    }
    flush(n);
    writer.close();
    st.truncated_records = reader.truncated_skipped();
    st.wall_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    return st;
}

std::string summary_line(const run_stats& s) {
    std::ostringstream o;
    const uint64_t packets = s.rtp + s.rtcp;
    o << "packets " << packets << " (rtp " << s.rtp << ", rtcp " << s.rtcp << "):";
    bool first = true;
    for (std::size_t i = 0; i < engine::status_count; ++i)
        if (s.by_status.n[i] || i == 0) {
            o << (first ? " " : ", ") << engine::status_names[i] << ' ' << s.by_status.n[i];
            first = false;
        }
    o << " | passed through " << s.passed_through << " | written " << s.written << " of " << s.frames << " frames";
    if (s.engine_seconds > 0)
        o << " | " << static_cast<double>(packets) / s.engine_seconds / 1e6 << " Mpkt/s in the engine";
    return o.str();
}

std::string summary_json(const run_stats& s) {
    nlohmann::ordered_json j;
    j["packets"] = s.rtp + s.rtcp;
    j["rtp"] = s.rtp;
    j["rtcp"] = s.rtcp;
    j["ok"] = s.by_status[engine::status::ok];
    j["auth_fail"] = s.by_status[engine::status::auth_fail];
    j["replay"] = s.by_status[engine::status::replay_duplicate] + s.by_status[engine::status::replay_old];
    for (std::size_t i = 1; i < engine::status_count; ++i)
        if (s.by_status.n[i] && !j.contains(std::string(engine::status_names[i])))
            j[std::string(engine::status_names[i])] = s.by_status.n[i];
    j["passed_through"] = s.passed_through;
    j["no_key"] = s.no_key;
    for (std::size_t i = 1; i < net::parse_status_count; ++i)
        if (s.not_udp[i]) j["frame_" + std::string(net::parse_status_names[i])] = s.not_udp[i];
    j["frames"] = s.frames;
    j["written"] = s.written;
    j["truncated_records"] = s.truncated_records;
    j["engine_seconds"] = s.engine_seconds;
    j["engine_packets_per_second"] = s.engine_seconds > 0 ? static_cast<double>(s.rtp + s.rtcp) / s.engine_seconds : 0.0;
    j["wall_seconds"] = s.wall_seconds;
    return j.dump();
}

} // namespace srtpo::tools
