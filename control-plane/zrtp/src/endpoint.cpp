// The ZRTP state machine (RFC 6189 §4), both roles, DH and Multistream modes.
#include <srtpo/cp/zrtp/commit.hpp>
#include <srtpo/cp/zrtp/confirm.hpp>
#include <srtpo/cp/zrtp/crypto.hpp>
#include <srtpo/cp/zrtp/dh_part.hpp>
#include <srtpo/cp/zrtp/endpoint.hpp>
#include <srtpo/cp/zrtp/error_message.hpp>
#include <srtpo/cp/zrtp/hello.hpp>
#include <srtpo/cp/zrtp/packet.hpp>
#include <srtpo/cp/zrtp/sas.hpp>

#include "hex.hpp"
#include "retransmit_timer.hpp"

#include <algorithm>
#include <cstring>

namespace srtpo::cp::zrtp {

using engine::errc;
using engine::make_error;

std::string_view to_string(state s) noexcept {
    static constexpr std::string_view n[] = {"idle", "discovery", "commit_sent", "dh_part1_sent", "dh_part2_sent",
                                             "confirm1_sent", "confirm2_sent", "secure", "failed"};
    return n[static_cast<std::size_t>(s)];
}

std::string_view to_string(cache_status s) noexcept {
    static constexpr std::string_view n[] = {"n/a", "new_peer", "match", "mismatch"};
    return n[static_cast<std::size_t>(s)];
}

struct endpoint::impl {
    std::shared_ptr<call> c;
    endpoint_config cfg;
    state st = state::idle;
    role r = role::undecided;
    bool multistream = false;
    uint16_t seq = 0;

    // §9 hash chain, always SHA-256.
    hash_image h0{}, h1{}, h2{}, h3{};
    std::vector<uint8_t> hello_msg;             // ours, as sent (hvi, total_hash, a=zrtp-hash)
    std::vector<uint8_t> peer_hello_msg;        // as received
    hello peer_hello;
    bool hello_acked = false;
    std::optional<hash_image> expected_peer_hello_hash;

    chosen_algorithms algos;
    bool negotiated = false;
    std::vector<uint8_t> commit_msg;            // the Commit in force (ours or the peer's)
    commit peer_commit;
    std::optional<key_exchange> kx;
    std::vector<uint8_t> dh1_msg, dh2_msg;      // DHPart1 and DHPart2 as on the wire
    dh_part peer_dh;

    secret s0, kdf_context, mackeyi, mackeyr, zrtpkeyi, zrtpkeyr;
    secret srtpkeyi, srtpsalti, srtpkeyr, srtpsaltr, new_rs1;
    uint32_t sasvalue = 0;
    std::string sas;
    cache_status cache = cache_status::not_applicable;
    bool peer_v = false;

    std::vector<uint8_t> last_response;         // responder: resent when a request is retransmitted
    std::vector<uint8_t> last_request;          // the request last_response answered

    retransmit_timer hello_timer, msg_timer;
    std::optional<time_point> deadline;         // the whole exchange (handshake_timeout)
    std::vector<uint8_t> retx_msg;              // what msg_timer resends

    std::vector<std::vector<uint8_t>> out;
    std::vector<event> events;
    uint32_t last_error = 0;
    std::string failure;

    // ---- helpers -------------------------------------------------------------------------
    void send(std::span<const uint8_t> msg) { out.push_back(frame_packet(seq++, cfg.ssrc, msg)); }
    void note(event_kind k, std::string d, uint32_t code = 0) { events.push_back({k, std::move(d), code}); }
    void discard(std::string why) { note(event_kind::discarded, std::move(why)); }

    void fail(std::string why, std::optional<error_code> send_code = std::nullopt) {
        if (st == state::failed) return;
        hello_timer.stop();
        msg_timer.stop();
        if (send_code) {
            last_error = static_cast<uint32_t>(*send_code);
            retx_msg = build_error(last_error);
            send(retx_msg);
            msg_timer.arm(cfg.t2_initial, cfg.t2_cap, cfg.t2_max_retransmissions, now_);
        }
        failure = why;
        st = state::failed;
        wipe_keys();
        note(event_kind::failed, std::move(why), last_error);
    }

    void wipe_keys() {
        for (secret* s : {&s0, &mackeyi, &mackeyr, &zrtpkeyi, &zrtpkeyr, &new_rs1}) s->wipe();
        kx.reset();
    }

    time_point now_{};

    bool we_initiate() const { return r == role::initiator; }
    const zid_t& zidi() const { return we_initiate() ? c->cache->self_zid() : peer_hello.zid; }
    const zid_t& zidr() const { return we_initiate() ? peer_hello.zid : c->cache->self_zid(); }

    // A stored message's trailing 64-bit MAC checked with a key revealed later (§9).
    static bool mac_ok(std::span<const uint8_t> key, const std::vector<uint8_t>& msg, const mac64& mac) {
        return ct_equal(message_mac(key, std::span(msg).first(msg.size() - 8)), mac);
    }

    // Opens the peer's Confirm with the peer's keys; a bad MAC is fatal (Error 0x70), anything
    // else malformed is dropped. False when the caller must stop.
    bool open_peer_confirm(std::span<const uint8_t> msg, bool second, confirm_body& b) {
        const auto& zk = second ? zrtpkeyi : zrtpkeyr;
        const auto& mk = second ? mackeyi : mackeyr;
        confirm_error e;
        if (open_confirm(msg, second, algos.cipher, algos.hash, zk.view(), mk.view(), b, e)) return true;
        if (e.why == confirm_failure::bad_mac) fail(e.detail.message, error_code::bad_confirm_mac);
        else discard(e.detail.message);
        return false;
    }

    // ---- keys (§4.4.1.4, §4.5) -----------------------------------------------------------
    void set_kdf_context(std::span<const uint8_t> total_hash) {
        std::vector<uint8_t> ctx;
        ctx.insert(ctx.end(), zidi().begin(), zidi().end());
        ctx.insert(ctx.end(), zidr().begin(), zidr().end());
        ctx.insert(ctx.end(), total_hash.begin(), total_hash.end());
        kdf_context = secret(std::move(ctx));
    }

    void derive_keys() {
        const auto h = algos.hash;
        const auto hl = hash_length(h), kl = cipher_key_length(algos.cipher);
        auto k = [&](std::string_view label, std::size_t n) { return kdf(h, s0.view(), label, kdf_context.view(), n); };
        mackeyi = k("Initiator HMAC key", hl);
        mackeyr = k("Responder HMAC key", hl);
        zrtpkeyi = k("Initiator ZRTP key", kl);
        zrtpkeyr = k("Responder ZRTP key", kl);
        srtpkeyi = k("Initiator SRTP master key", kl);
        srtpsalti = k("Initiator SRTP master salt", 14);
        srtpkeyr = k("Responder SRTP master key", kl);
        srtpsaltr = k("Responder SRTP master salt", 14);
        if (!multistream) {
            auto sh = k("SAS", 32);
            sasvalue = static_cast<uint32_t>(sh.data()[0]) << 24 | static_cast<uint32_t>(sh.data()[1]) << 16 |
                       static_cast<uint32_t>(sh.data()[2]) << 8 | sh.data()[3];
            sas = render_sas(algos.sas, sasvalue);
            new_rs1 = k("retained secret", 32);
        }
    }

    // rsNID = MAC(rsN, "Initiator" | "Responder"), 64 bits (§4.3.1); random when absent.
    secret_id secret_id_of(const secret& rs, std::string_view label) const {
        secret_id id{};
        if (rs.size() != 32) {
            random_bytes(id);
            return id;
        }
        auto m = hmac(algos.hash, rs.view(), {bytes_view(reinterpret_cast<const uint8_t*>(label.data()), label.size())});
        std::copy_n(m.data(), 8, id.begin());
        return id;
    }

    dh_part make_dh_part(bool part2) {
        dh_part d;
        d.part2 = part2;
        d.h1 = h1;
        const auto* e = c->cache->find(peer_hello.zid);
        static const secret none;
        const std::string_view label = part2 ? "Initiator" : "Responder";
        d.rs1_id = secret_id_of(e ? e->rs1 : none, label);
        d.rs2_id = secret_id_of(e ? e->rs2 : none, label);
        random_bytes(d.auxsecret_id); // no auxsecret or pbxsecret: random IDs (§4.3.1)
        random_bytes(d.pbxsecret_id);
        d.pv = kx->public_value();
        return d;
    }

    // §4.3.1 / §4.6.1: find s1 from the peer's IDs, and detect a cache mismatch.
    secret match_retained_secret(const dh_part& peer) {
        const auto* e = c->cache->find(peer_hello.zid);
        const std::string_view peer_label = peer.part2 ? "Initiator" : "Responder";
        if (!e || (e->rs1.empty() && e->rs2.empty())) {
            cache = cache_status::new_peer;
            return {};
        }
        auto id = [&](const secret& rs) { return rs.size() == 32 ? std::optional(secret_id_of(rs, peer_label)) : std::nullopt; };
        const auto id1 = id(e->rs1), id2 = id(e->rs2);
        auto eq = [](const std::optional<secret_id>& a, const secret_id& b) { return a && ct_equal(*a, b); };
        if (eq(id1, peer.rs1_id) || eq(id1, peer.rs2_id)) {
            cache = cache_status::match;
            return e->rs1;
        }
        if (eq(id2, peer.rs1_id) || eq(id2, peer.rs2_id)) {
            cache = cache_status::match;
            return e->rs2;
        }
        cache = cache_status::mismatch;
        note(event_kind::cache_mismatch, "retained secret mismatch with this peer ZID: possible MitM, compare the SAS (§4.6.1.1)");
        return {};
    }

    // s0 in DH mode (§4.4.1.4).
    void compute_s0_dh(const secret& dh_result, const secret& s1) {
        auto th = digest(algos.hash, {peer_or_own_hello_of_responder(), commit_msg, dh1_msg, dh2_msg});
        set_kdf_context(th);
        const uint8_t counter[4] = {0, 0, 0, 1};
        auto len = [](std::size_t n) {
            return std::array<uint8_t, 4>{0, 0, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
        };
        const auto l1 = len(s1.size()), l0 = len(0);
        const char* label = "ZRTP-HMAC-KDF";
        s0 = secret(digest(algos.hash, {counter, dh_result.view(), bytes_view(reinterpret_cast<const uint8_t*>(label), 13), zidi(),
                                        zidr(), th, l1, s1.view(), l0, l0}));
        derive_keys();
    }

    // s0 in Multistream mode (§4.4.3.2).
    void compute_s0_multistream() {
        auto th = digest(algos.hash, {peer_or_own_hello_of_responder(), commit_msg});
        set_kdf_context(th);
        s0 = kdf(algos.hash, c->zrtp_sess.view(), "ZRTP MSK", kdf_context.view(), hash_length(algos.hash));
        derive_keys();
    }

    std::span<const uint8_t> peer_or_own_hello_of_responder() const { return we_initiate() ? peer_hello_msg : hello_msg; }

    // ---- sending -------------------------------------------------------------------------
    void send_with_t2(std::vector<uint8_t> msg) {
        retx_msg = std::move(msg);
        send(retx_msg);
        msg_timer.arm(cfg.t2_initial, cfg.t2_cap, cfg.t2_max_retransmissions, now_);
    }

    bool can_multistream() const {
        return cfg.multistream && c->has_session_key && c->peer_zid == peer_hello.zid;
    }

    void send_commit() {
        auto chosen = negotiate(cfg.algorithms, peer_hello.algorithms, can_multistream());
        if (!chosen) {
            fail("no common algorithms with the peer's Hello", error_code::hello_components_mismatch);
            return;
        }
        algos = *chosen;
        if (can_multistream()) algos.hash = c->hash; // §4.4.3: the DH stream's hash
        negotiated = true;
        multistream = algos.ka == key_agreement::mult;
        r = role::initiator;
        commit cm;
        cm.h2 = h2;
        cm.zid = c->cache->self_zid();
        cm.hash = word_of(name(algos.hash));
        cm.cipher = word_of(name(algos.cipher));
        cm.auth = word_of(name(algos.auth));
        cm.ka = word_of(name(algos.ka));
        cm.sas = word_of(name(algos.sas));
        if (multistream) {
            cm.hvi_or_nonce.resize(16);
            random_bytes(cm.hvi_or_nonce);
        } else {
            auto k = key_exchange::generate(algos.ka);
            if (!k) {
                fail(k.err().message, error_code::critical_software_error);
                return;
            }
            kx.emplace(std::move(*k));
            // DHPart2 is fixed now: hvi commits to it (§4.4.1.1).
            dh2_msg = build_dh_part(make_dh_part(true), h0);
            auto hvi = digest(algos.hash, {dh2_msg, peer_hello_msg});
            cm.hvi_or_nonce.assign(hvi.begin(), hvi.begin() + 32);
        }
        commit_msg = build_commit(cm, h1);
        st = state::commit_sent;
        send_with_t2(commit_msg);
    }

    // ---- receiving -----------------------------------------------------------------------
    void on_hello(std::span<const uint8_t> msg) {
        auto h = parse_hello(msg);
        if (!h) return discard(h.err().message);
        const std::string_view v(h->version.data(), 4);
        if (v != cfg.version) {
            // §4.1.1: the endpoint with the higher version steps down; we speak only ours. A lower
            // version we cannot serve is answered with Error 0x30.
            if (v < std::string_view(cfg.version))
                fail("peer speaks ZRTP version " + std::string(v) + " only", error_code::unsupported_version);
            else
                discard("Hello with a newer version " + std::string(v) + "; waiting for one at " + cfg.version);
            return;
        }
        if (expected_peer_hello_hash && !ct_equal(sha256(msg), *expected_peer_hello_hash)) {
            fail("peer Hello does not match the signalled a=zrtp-hash (§8.1): possible MitM");
            return;
        }
        if (h->zid == c->cache->self_zid()) {
            fail("peer uses our own ZID", error_code::equal_zids);
            return;
        }
        if (!peer_hello_msg.empty() && !std::equal(peer_hello_msg.begin(), peer_hello_msg.end(), msg.begin(), msg.end())) {
            if (st != state::discovery) return discard("a different Hello after discovery");
        }
        peer_hello_msg.assign(msg.begin(), msg.end());
        peer_hello = std::move(*h);
        if (st == state::discovery) {
            if (!cfg.passive) {
                send_commit(); // a Commit also acknowledges the Hello (§4.1)
                return;
            }
            send(build_ack(message_type::hello_ack));
        } else if (r == role::responder || st == state::secure) {
            send(build_ack(message_type::hello_ack));
        }
    }

    void on_hello_ack() {
        hello_acked = true;
        hello_timer.stop();
    }

    // §4.2 contention: both sent Commit.
    bool peer_wins_contention(const commit& theirs) const {
        if (theirs.multistream() != multistream) return !theirs.multistream(); // the DH Commit wins
        // Higher hvi (DH) or nonce (Mult) is the initiator.
        const auto ours = parse_commit(commit_msg);
        return std::lexicographical_compare(ours->hvi_or_nonce.begin(), ours->hvi_or_nonce.end(), theirs.hvi_or_nonce.begin(),
                                            theirs.hvi_or_nonce.end());
    }

    void on_commit(std::span<const uint8_t> msg) {
        if (r == role::responder) {
            // A retransmitted Commit: our DHPart1 (or Multistream Confirm1) was lost (§6).
            if (std::equal(msg.begin(), msg.end(), commit_msg.begin(), commit_msg.end())) {
                if (st == state::dh_part1_sent) send(dh1_msg);
                else if (multistream && st == state::confirm1_sent) send(last_response);
            }
            return;
        }
        if (peer_hello_msg.empty()) return discard("Commit before the peer's Hello");
        auto cm = parse_commit(msg);
        if (!cm) return discard(cm.err().message);
        // §9: H2 must hash to the Hello's H3, and the Hello's MAC is keyed by H2.
        if (!ct_equal(sha256(cm->h2), peer_hello.h3)) return discard("Commit H2 does not hash to the Hello's H3");
        if (!mac_ok(cm->h2, peer_hello_msg, peer_hello.mac))
            return discard("peer Hello MAC does not verify with H2");
        if (cm->zid != peer_hello.zid) return discard("Commit ZID differs from the Hello's");
        if (r == role::initiator) {
            if (st != state::commit_sent || !peer_wins_contention(*cm)) return; // we stay initiator
            msg_timer.stop();
            kx.reset();
            dh2_msg.clear();
        }
        chosen_algorithms a;
        auto h = hash_from_word(cm->hash);
        auto ci = cipher_from_word(cm->cipher);
        auto au = auth_from_word(cm->auth);
        auto ka = ka_from_word(cm->ka);
        auto sa = sas_from_word(cm->sas);
        if (!h || std::find(cfg.algorithms.hashes.begin(), cfg.algorithms.hashes.end(), *h) == cfg.algorithms.hashes.end())
            return fail("Commit selects an unsupported hash", error_code::unsupported_hash);
        if (!ci || std::find(cfg.algorithms.ciphers.begin(), cfg.algorithms.ciphers.end(), *ci) == cfg.algorithms.ciphers.end())
            return fail("Commit selects an unsupported cipher", error_code::unsupported_cipher);
        if (!au || std::find(cfg.algorithms.auth_tags.begin(), cfg.algorithms.auth_tags.end(), *au) == cfg.algorithms.auth_tags.end())
            return fail("Commit selects an unsupported auth tag", error_code::unsupported_auth_tag);
        if (!sa || std::find(cfg.algorithms.sas_types.begin(), cfg.algorithms.sas_types.end(), *sa) == cfg.algorithms.sas_types.end())
            return fail("Commit selects an unsupported SAS type", error_code::unsupported_sas);
        a = {*h, *ci, *au, ka ? *ka : key_agreement::dh3k, *sa};
        if (!ka || *ka == key_agreement::prsh || (*ka == key_agreement::mult && !can_multistream()) ||
            (*ka != key_agreement::mult && !acceptable(cfg.algorithms, a)))
            return fail("Commit selects an unsupported key agreement", error_code::unsupported_key_exchange);
        if (*ka == key_agreement::mult && *h != c->hash)
            return fail("Multistream Commit with a hash other than the call's", error_code::unsupported_hash);
        algos = a;
        negotiated = true;
        multistream = *ka == key_agreement::mult;
        r = role::responder;
        peer_commit = std::move(*cm);
        commit_msg.assign(msg.begin(), msg.end());
        last_request = commit_msg;
        hello_timer.stop(); // Commit implies HelloACK (§4.1)
        hello_acked = true;
        if (multistream) {
            compute_s0_multistream();
            last_response = build_confirm(false, confirm_body_now(), algos.cipher, algos.hash, zrtpkeyr.view(), mackeyr.view());
            st = state::confirm1_sent;
        } else {
            auto k = key_exchange::generate(algos.ka);
            if (!k) return fail(k.err().message, error_code::critical_software_error);
            kx.emplace(std::move(*k));
            dh1_msg = build_dh_part(make_dh_part(false), h0);
            last_response = dh1_msg;
            st = state::dh_part1_sent;
        }
        send(last_response);
    }

    confirm_body confirm_body_now() const {
        confirm_body b;
        b.h0 = h0;
        const auto* e = c->cache->find(peer_hello.zid);
        b.sas_verified = !multistream && cache == cache_status::match && e && e->sas_verified;
        return b;
    }

    void on_dh_part1(std::span<const uint8_t> msg) {
        if (r != role::initiator || st != state::commit_sent || multistream) return;
        auto d = parse_dh_part(msg);
        if (!d || d->part2) return discard(d ? "DHPart2 where DHPart1 was expected" : d.err().message);
        // H1 -> H2 -> H3 of the peer's Hello; the Hello MAC is keyed by H2 (§9).
        auto ph2 = sha256(d->h1);
        if (!ct_equal(sha256(ph2), peer_hello.h3)) return discard("DHPart1 H1 does not hash to the Hello's H3");
        if (!mac_ok(ph2, peer_hello_msg, peer_hello.mac))
            return discard("peer Hello MAC does not verify with H2");
        if (d->pv.size() != pv_length(algos.ka)) return fail("DHPart1 public value has the wrong length", error_code::malformed_packet);
        auto dh = kx->derive(d->pv);
        if (!dh) return fail(dh.err().message, error_code::dh_bad_pv);
        hello_timer.stop(); // a DHPart1 proves the peer has our Hello (its HelloACK may be lost)
        dh1_msg.assign(msg.begin(), msg.end());
        peer_dh = std::move(*d);
        auto s1 = match_retained_secret(peer_dh);
        compute_s0_dh(*dh, s1);
        kx.reset();
        st = state::dh_part2_sent;
        send_with_t2(dh2_msg);
    }

    void on_dh_part2(std::span<const uint8_t> msg) {
        if (r != role::responder || multistream) return;
        if (st != state::dh_part1_sent) {
            if (std::equal(msg.begin(), msg.end(), last_request.begin(), last_request.end())) send(last_response);
            return;
        }
        auto d = parse_dh_part(msg);
        if (!d || !d->part2) return discard(d ? "DHPart1 where DHPart2 was expected" : d.err().message);
        if (!ct_equal(sha256(d->h1), peer_commit.h2)) return discard("DHPart2 H1 does not hash to the Commit's H2");
        if (!mac_ok(d->h1, commit_msg, peer_commit.mac))
            return discard("Commit MAC does not verify with H1");
        auto hvi = digest(algos.hash, {msg, hello_msg});
        if (!ct_equal(std::span(hvi).first(32), peer_commit.hvi_or_nonce))
            return fail("hvi does not match DHPart2 and our Hello", error_code::dh_hvi_mismatch);
        if (d->pv.size() != pv_length(algos.ka)) return fail("DHPart2 public value has the wrong length", error_code::malformed_packet);
        auto dh = kx->derive(d->pv);
        if (!dh) return fail(dh.err().message, error_code::dh_bad_pv);
        dh2_msg.assign(msg.begin(), msg.end());
        peer_dh = std::move(*d);
        auto s1 = match_retained_secret(peer_dh);
        compute_s0_dh(*dh, s1);
        kx.reset();
        last_request = dh2_msg;
        last_response = build_confirm(false, confirm_body_now(), algos.cipher, algos.hash, zrtpkeyr.view(), mackeyr.view());
        st = state::confirm1_sent;
        send(last_response);
    }

    void on_confirm1(std::span<const uint8_t> msg) {
        if (r != role::initiator) return;
        if (multistream ? st != state::commit_sent : st != state::dh_part2_sent) return;
        if (multistream) compute_s0_multistream();
        confirm_body b;
        if (!open_peer_confirm(msg, false, b)) return;
        auto ph1 = sha256(b.h0);
        if (multistream) {
            auto ph2 = sha256(ph1);
            if (!ct_equal(sha256(ph2), peer_hello.h3)) return discard("Confirm1 H0 does not hash to the Hello's H3");
            if (!mac_ok(ph2, peer_hello_msg, peer_hello.mac))
                return discard("peer Hello MAC does not verify with H2");
        } else {
            if (!ct_equal(ph1, peer_dh.h1)) return discard("Confirm1 H0 does not hash to DHPart1's H1");
            if (!mac_ok(b.h0, dh1_msg, peer_dh.mac))
                return discard("DHPart1 MAC does not verify with H0");
        }
        hello_timer.stop();
        peer_v = b.sas_verified;
        st = state::confirm2_sent;
        send_with_t2(build_confirm(true, confirm_body_now(), algos.cipher, algos.hash, zrtpkeyi.view(), mackeyi.view()));
    }

    void on_confirm2(std::span<const uint8_t> msg) {
        if (r != role::responder) return;
        if (st == state::secure) {
            if (std::equal(msg.begin(), msg.end(), last_request.begin(), last_request.end())) send(last_response);
            return;
        }
        if (st != state::confirm1_sent) return;
        confirm_body b;
        if (!open_peer_confirm(msg, true, b)) return;
        auto ph1 = sha256(b.h0);
        if (multistream) {
            if (!ct_equal(sha256(ph1), peer_commit.h2)) return discard("Confirm2 H0 does not hash to the Commit's H2");
            if (!mac_ok(ph1, commit_msg, peer_commit.mac))
                return discard("Commit MAC does not verify with H1");
        } else {
            if (!ct_equal(ph1, peer_dh.h1)) return discard("Confirm2 H0 does not hash to DHPart2's H1");
            if (!mac_ok(b.h0, dh2_msg, peer_dh.mac))
                return discard("DHPart2 MAC does not verify with H0");
        }
        peer_v = b.sas_verified;
        last_request.assign(msg.begin(), msg.end());
        last_response = build_ack(message_type::conf2_ack);
        send(last_response);
        go_secure();
    }

    void go_secure() {
        msg_timer.stop();
        deadline.reset();
        hello_timer.stop();
        st = state::secure;
        if (multistream) {
            sas = c->sas;
        } else {
            // §4.6.1: rs2 <- rs1, rs1 <- new; a mismatch clears the verified flag (§4.6.1.1).
            cache_entry e;
            const auto* old = c->cache->find(peer_hello.zid);
            if (old) {
                e.rs2 = old->rs1;
                e.sas_verified = cache == cache_status::match && old->sas_verified;
            }
            e.rs1 = new_rs1;
            if (auto s = c->cache->store(peer_hello.zid, std::move(e)); !s) note(event_kind::cache_error, s.err().message);
            c->zrtp_sess = kdf(algos.hash, s0.view(), "ZRTP Session Key", kdf_context.view(), hash_length(algos.hash));
            c->hash = algos.hash;
            c->peer_zid = peer_hello.zid;
            c->sas = sas;
            c->has_session_key = true;
        }
        wipe_keys();
        note(event_kind::secure, "secure (" + std::string(multistream ? "Mult" : name(algos.ka)) + ")");
    }

    void on_packet(std::span<const uint8_t> pkt) {
        auto p = parse_packet(pkt);
        if (!p) return discard(p.err().message);
        auto t = parse_message_header(p->message);
        if (!t) return discard(t.err().message);
        auto m = p->message;
        if (st == state::idle) return discard("packet before start()");
        if (st == state::failed) {
            if (*t == message_type::error) send(build_ack(message_type::error_ack));
            if (*t == message_type::error_ack) msg_timer.stop();
            return;
        }
        switch (*t) {
        case message_type::hello: return on_hello(m);
        case message_type::hello_ack:
            if (auto a = parse_ack(m, *t); !a) return discard(a.err().message);
            return on_hello_ack();
        case message_type::commit: return on_commit(m);
        case message_type::dh_part1: return on_dh_part1(m);
        case message_type::dh_part2: return on_dh_part2(m);
        case message_type::confirm1: return on_confirm1(m);
        case message_type::confirm2: return on_confirm2(m);
        case message_type::conf2_ack:
            if (auto a = parse_ack(m, *t); !a) return discard(a.err().message);
            if (r == role::initiator && st == state::confirm2_sent) go_secure();
            return;
        case message_type::error: {
            auto code = parse_error(m);
            if (!code) return discard(code.err().message);
            send(build_ack(message_type::error_ack));
            last_error = *code;
            return fail("peer sent Error 0x" + hex_u32(*code) + ": " +
                        std::string(describe(static_cast<error_code>(*code))));
        }
        case message_type::error_ack: return;
        case message_type::go_clear:
            // §4.7.2: we never allow clear media; refuse without tearing the call down.
            send(build_error(static_cast<uint32_t>(error_code::goclear_not_allowed)));
            return note(event_kind::refused, "GoClear refused (not supported)", static_cast<uint32_t>(error_code::goclear_not_allowed));
        case message_type::sas_relay:
            return note(event_kind::refused, "SASrelay ignored: we trust no PBX (§7.3)");
        case message_type::ping: {
            auto pg = parse_ping(m);
            if (!pg) return discard(pg.err().message);
            ping_ack a;
            std::memcpy(a.version.data(), zrtp_version.data(), 4);
            auto eh = sha256(c->cache->self_zid());
            std::copy_n(eh.begin(), 8, a.sender_endpoint_hash.begin());
            a.received_endpoint_hash = pg->endpoint_hash;
            a.received_ssrc = p->ssrc;
            return send(build_ping_ack(a));
        }
        case message_type::clear_ack:
        case message_type::relay_ack:
        case message_type::ping_ack: return;
        }
    }
};

// ---- public API --------------------------------------------------------------------------

engine::result<std::unique_ptr<endpoint>> endpoint::create(std::shared_ptr<call> c, endpoint_config cfg) {
    if (!c || !c->cache) return make_error(errc::invalid_argument, "zrtp endpoint: no call or cache");
    const auto& a = cfg.algorithms;
    for (std::size_t n : {a.hashes.size(), a.ciphers.size(), a.auth_tags.size(), a.sas_types.size()})
        if (n == 0 || n > 7) return make_error(errc::invalid_argument, "zrtp endpoint: each algorithm list needs 1..7 entries");
    if (a.key_agreements.empty() || a.key_agreements.size() + (cfg.multistream ? 1 : 0) > 7)
        return make_error(errc::invalid_argument, "zrtp endpoint: key agreement list needs 1..7 entries (Mult counts)");
    for (auto k : a.key_agreements)
        if (k == key_agreement::mult || k == key_agreement::prsh)
            return make_error(errc::invalid_argument, "zrtp endpoint: Mult is offered via `multistream`, Prsh is not supported");
    if (cfg.version.size() != 4) return make_error(errc::invalid_argument, "zrtp endpoint: version must be 4 characters");
    auto p = std::make_unique<impl>();
    p->c = std::move(c);
    p->cfg = std::move(cfg);
    random_bytes(p->h0);
    p->h1 = sha256(p->h0);
    p->h2 = sha256(p->h1);
    p->h3 = sha256(p->h2);
    uint8_t s[2];
    random_bytes(s);
    p->seq = static_cast<uint16_t>(s[0] << 8 | s[1]) & 0x7fff;
    hello h;
    std::memcpy(h.version.data(), p->cfg.version.data(), 4);
    std::fill(h.client_id.begin(), h.client_id.end(), ' ');
    std::memcpy(h.client_id.data(), p->cfg.client_id.data(), std::min<std::size_t>(16, p->cfg.client_id.size()));
    h.h3 = p->h3;
    h.zid = p->c->cache->self_zid();
    h.passive = p->cfg.passive;
    p->hello_msg = build_hello(h, p->cfg.algorithms, p->cfg.multistream, p->h2);
    auto ep = std::unique_ptr<endpoint>(new endpoint(std::move(p)));
    if (!ep->_p->cfg.peer_zrtp_hash.empty())
        if (auto r = ep->set_peer_zrtp_hash(ep->_p->cfg.peer_zrtp_hash); !r) return r.err();
    return ep;
}

endpoint::endpoint(std::unique_ptr<impl> p) : _p(std::move(p)) {}
endpoint::~endpoint() = default;

void endpoint::start(time_point now) {
    auto& p = *_p;
    if (p.st != state::idle) return;
    p.now_ = now;
    p.st = state::discovery;
    p.send(p.hello_msg);
    p.hello_timer.arm(p.cfg.t1_initial, p.cfg.t1_cap, p.cfg.t1_max_retransmissions, now);
    p.deadline = now + p.cfg.handshake_timeout;
}

void endpoint::receive(std::span<const uint8_t> packet, time_point now) {
    _p->now_ = now;
    _p->on_packet(packet);
}

void endpoint::on_timer(time_point now) {
    auto& p = *_p;
    p.now_ = now;
    if (p.deadline && now >= *p.deadline) {
        p.deadline.reset();
        if (p.st != state::secure && p.st != state::failed) {
            p.last_error = static_cast<uint32_t>(error_code::protocol_timeout);
            p.fail("timeout: not secure within " + std::to_string(p.cfg.handshake_timeout.count()) + " ms in state " +
                   std::string(to_string(p.st)));
            return;
        }
    }
    switch (p.hello_timer.poll(now)) {
    case retransmit_timer::outcome::resend: p.send(p.hello_msg); break;
    case retransmit_timer::outcome::exhausted: p.fail("timeout: no answer to Hello (T1, §6)"); return;
    case retransmit_timer::outcome::idle: break;
    }
    switch (p.msg_timer.poll(now)) {
    case retransmit_timer::outcome::resend: p.send(p.retx_msg); break;
    case retransmit_timer::outcome::exhausted:
        if (p.st != state::failed) {
            p.last_error = static_cast<uint32_t>(error_code::protocol_timeout);
            p.fail("timeout: no answer in state " + std::string(to_string(p.st)) + " (T2, §6)");
        }
        return;
    case retransmit_timer::outcome::idle: break;
    }
}

std::optional<time_point> endpoint::next_timeout() const {
    std::optional<time_point> t;
    const bool open = _p->st != state::secure && _p->st != state::failed;
    for (auto d : {_p->hello_timer.deadline(), _p->msg_timer.deadline(), open ? _p->deadline : std::nullopt})
        if (d && (!t || *d < *t)) t = d;
    return t;
}

std::vector<std::vector<uint8_t>> endpoint::take_outgoing() { return std::exchange(_p->out, {}); }
std::vector<event> endpoint::take_events() { return std::exchange(_p->events, {}); }
state endpoint::current_state() const noexcept { return _p->st; }

endpoint_info endpoint::info() const {
    const auto& p = *_p;
    endpoint_info i;
    i.st = p.st;
    i.r = p.r;
    i.negotiated = p.negotiated;
    i.algorithms = p.algos;
    i.sas = p.st == state::secure ? p.sas : std::string{};
    i.peer_sas_verified = p.peer_v;
    i.cache = p.cache;
    i.peer_zid = p.peer_hello.zid;
    i.multistream = p.multistream;
    i.last_error = p.last_error;
    i.failure = p.failure;
    if (const auto* e = p.c->cache->find(p.peer_hello.zid)) i.sas_verified = p.st == state::secure && e->sas_verified;
    return i;
}

std::string endpoint::zrtp_hash() const { return std::string(zrtp_version) + " " + to_hex(sha256(_p->hello_msg)); }

engine::result<void> endpoint::set_peer_zrtp_hash(const std::string& value) {
    // "1.10 <64 hex>" (§8.1); we only speak 1.10, so another version cannot be checked.
    if (value.size() != 5 + 64 || value.compare(0, 5, "1.10 ") != 0)
        return make_error(errc::invalid_argument, "zrtp: a=zrtp-hash must be \"1.10 \" followed by 64 hex digits");
    auto b = from_hex(std::string_view(value).substr(5));
    if (!b || b->size() != 32) return make_error(errc::invalid_argument, "zrtp: a=zrtp-hash value is not 64 hex digits");
    hash_image h;
    std::copy(b->begin(), b->end(), h.begin());
    _p->expected_peer_hello_hash = h;
    if (!_p->peer_hello_msg.empty() && !ct_equal(sha256(_p->peer_hello_msg), h))
        _p->fail("peer Hello does not match the signalled a=zrtp-hash (§8.1): possible MitM");
    return {};
}

engine::result<srtp_keying> endpoint::keying() const {
    const auto& p = *_p;
    if (p.st != state::secure) return make_error(errc::invalid_argument, "zrtp: no keys before the exchange is secure");
    srtp_keying k;
    k.suite = srtp_suite(p.algos.cipher, p.algos.auth);
    k.protocol = "zrtp";
    auto cat = [](const secret& key, const secret& salt) {
        secret ks(key.size() + salt.size());
        std::copy(key.view().begin(), key.view().end(), ks.data());
        std::copy(salt.view().begin(), salt.view().end(), ks.data() + key.size());
        auto r = engine::key_salt_buffer::from(std::as_bytes(ks.view()));
        return r;
    };
    const bool i = p.r == role::initiator;
    auto local = i ? cat(p.srtpkeyi, p.srtpsalti) : cat(p.srtpkeyr, p.srtpsaltr);
    auto remote = i ? cat(p.srtpkeyr, p.srtpsaltr) : cat(p.srtpkeyi, p.srtpsalti);
    if (!local) return local.err();
    if (!remote) return remote.err();
    k.local.key_salt = std::move(*local);
    k.remote.key_salt = std::move(*remote);
    return k;
}

engine::result<void> endpoint::verify_sas(bool verified) {
    auto& p = *_p;
    if (p.st != state::secure) return make_error(errc::invalid_argument, "zrtp: the SAS can be verified only once secure");
    return p.c->cache->set_verified(p.peer_hello.zid, verified);
}

} // namespace srtpo::cp::zrtp
