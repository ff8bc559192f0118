// keying-ctl: the operator CLI over srtpo-cp's control API (docs/keying-ctl.md).
//
//   keying-ctl [--socket PATH] [--json] flow add|update|del|show|list|rekey ...
//   keying-ctl [--socket PATH] [--json] stats [MATCH]
//   keying-ctl [--socket PATH] [--json] health
//   keying-ctl [--json] mikey decode [MESSAGE|-] [--show-keys]   (offline: no daemon needed)
//   keying-ctl [--socket PATH] [--json] call offer|answer CALL_ID [SDP_FILE|-] ...  (rewritten SDP on stdout)
//   keying-ctl [--socket PATH] [--json] call del|show CALL_ID, call list           (docs/calls.md)
//   keying-ctl [--socket PATH] [--json] zrtp show CALL_ID, zrtp verify CALL_ID [--stream N] [--unverify]
//
// Keys: a key option takes an SDES key-param ("inline:BASE64|2^31|1:4" or bare BASE64), or
// "@FILE" to read it from a file, or "-" to read it from stdin — so that keys need not appear in
// the process list. Key material is printed only with `flow show --reveal-keys`, which srtpo-cp
// records in its log.
//
// Exit codes: 0 success; 2 usage error; 3 srtpo-cp refused the request (its error is printed);
// 4 srtpo-cp could not be reached.

#include "text_table.hpp"

#include <srtpo/cp/api/client.hpp>
#include <srtpo/cp/mikey/describe.hpp>
#include <srtpo/engine/kdf.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

constexpr int exit_usage = 2;
constexpr int exit_refused = 3;
constexpr int exit_unreachable = 4;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A key option's value: literal, @FILE or - (stdin). The returned string holds key material.
std::string read_key(const std::string& opt, const std::string& v) {
    std::string k;
    if (v == "-") {
        if (!std::getline(std::cin, k)) throw usage_error(opt + ": nothing on stdin");
    } else if (!v.empty() && v[0] == '@') {
        std::ifstream f(v.substr(1));
        if (!f) throw usage_error(opt + ": cannot read " + v.substr(1));
        std::getline(f, k);
    } else {
        k = v;
    }
    while (!k.empty() && (k.back() == '\r' || k.back() == ' ')) k.pop_back();
    if (k.empty()) throw usage_error(opt + ": empty key");
    return k;
}

struct leg_opts {
    std::string suite, key;
    std::optional<uint32_t> window, roc;
};

struct flow_opts {
    std::string match, send_from, send_to;
    leg_opts in, out;
    bool auth_only = false, rtcp_mux = false;
    std::optional<uint32_t> grace;
    std::string file;
};

void add_leg_options(CLI::App* c, leg_opts& l, const std::string& side) {
    c->add_option("--" + side + "-suite", l.suite, "SDES crypto-suite of the " + side + " leg");
    c->add_option("--" + side + "-key", l.key, "key-param, @FILE or - (stdin)");
    c->add_option("--" + side + "-window", l.window, "replay window, 64..32768 (in leg)");
    c->add_option("--" + side + "-roc", l.roc, "initial ROC");
}

void add_flow_options(CLI::App* c, flow_opts& f) {
    c->add_option("--match", f.match, "local address:port media arrives on");
    add_leg_options(c, f.in, "in");
    add_leg_options(c, f.out, "out");
    c->add_flag("--auth-only", f.auth_only, "verify with the in leg, forward unchanged");
    c->add_flag("--rtcp-mux", f.rtcp_mux, "RTCP on the same port (RFC 5761)");
    c->add_option("--send-from", f.send_from, "new source address:port");
    c->add_option("--send-to", f.send_to, "new destination address:port");
    c->add_option("--grace", f.grace, "make-before-break time of a rekey, ms");
}

std::optional<json> leg_json(const leg_opts& l, const std::string& side, bool key_required) {
    if (l.suite.empty() && l.key.empty() && !l.window && !l.roc) return std::nullopt;
    if (l.suite.empty()) throw usage_error("--" + side + "-suite is needed with the other --" + side + "- options");
    json j{{"suite", l.suite}};
    if (!l.key.empty()) j["key"] = read_key("--" + side + "-key", l.key);
    else if (key_required) throw usage_error("--" + side + "-key is needed");
    if (l.window) j["window"] = *l.window;
    if (l.roc) j["roc"] = *l.roc;
    return j;
}

json flow_json(const flow_opts& f, bool keys_required) {
    if (f.match.empty()) throw usage_error("--match is needed");
    json j{{"match", f.match}};
    if (auto l = leg_json(f.in, "in", keys_required)) j["in"] = *l;
    if (auto l = leg_json(f.out, "out", keys_required)) j["out"] = *l;
    if (f.auth_only) j["authenticate_only"] = true;
    if (f.rtcp_mux) j["rtcp_mux"] = true;
    if (!f.send_from.empty()) j["send_from"] = f.send_from;
    if (!f.send_to.empty()) j["send_to"] = f.send_to;
    if (f.grace) j["rekey_grace_ms"] = *f.grace;
    return j;
}

void wipe(json& j) {
    if (j.is_string()) {
        auto& s = j.get_ref<std::string&>();
        srtpo::engine::secure_zero(s.data(), s.size());
    } else if (j.is_structured()) {
        for (auto& v : j) wipe(v);
    }
}

std::string leg_text(const json& f, const char* side) {
    if (!f.contains(side)) return "-";
    const auto& l = f[side];
    std::string s = l.value("suite", "?");
    if (l.contains("mki")) s += " mki " + l["mki"].get<std::string>();
    return s;
}

std::string str(const json& j, const char* k, const char* dflt = "-") {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return dflt;
    return it->is_string() ? it->get<std::string>() : it->dump();
}

void print_flow(const json& f) {
    srtpo::kctl::text_table t({"FIELD", "VALUE"});
    t.add({"match", str(f, "match")});
    t.add({"slot", str(f, "slot")});
    t.add({"generation", str(f, "generation")});
    t.add({"action", str(f, "action")});
    t.add({"rtcp", f.value("rtcp_mux", false) ? "mux (RFC 5761)" : "port + 1"});
    for (const char* side : {"in", "out"}) {
        if (!f.contains(side)) continue;
        const auto& l = f[side];
        t.add({std::string(side) + ".suite", str(l, "suite")});
        if (l.contains("mki")) t.add({std::string(side) + ".mki", str(l, "mki")});
        t.add({std::string(side) + ".roc", str(l, "roc")});
        if (std::string_view(side) == "in") t.add({"in.window", str(l, "window")});
        if (l.contains("key")) t.add({std::string(side) + ".key", str(l, "key")});
        else if (!l.value("key_available", true)) t.add({std::string(side) + ".key", "(not held: flow recovered from the table)"});
    }
    if (f.contains("send_from")) t.add({"send_from", str(f, "send_from")});
    if (f.contains("send_to")) t.add({"send_to", str(f, "send_to")});
    if (f.contains("live") && !f["live"].is_null()) {
        const auto& l = f["live"];
        t.add({"packets", str(l, "packets")});
        t.add({"octets", str(l, "octets")});
        t.add({"auth_fail", str(l, "auth_fail")});
        t.add({"replay_drop", str(l, "replay_drop")});
        if (l.contains("in")) t.add({"in.live", "roc " + str(l["in"], "roc") + " seq " + str(l["in"], "seq")});
        if (l.contains("out")) t.add({"out.live", "roc " + str(l["out"], "roc") + " seq " + str(l["out"], "seq")});
    }
    std::fputs(t.render().c_str(), stdout);
}

/// `call show`: one line per DTLS-SRTP / ZRTP leg with its handshake state (never keys).
void print_media_paths(const json& r) {
    for (const auto& st : r["streams"]) {
        if (!st.contains("legs")) continue;
        for (const char* leg : {"a", "b"}) {
            const auto& l = st["legs"][leg];
            if (!l.contains("media_path")) continue;
            const auto& m = l["media_path"];
            std::string line = "stream " + str(st, "index") + " leg " + leg + ": " + str(m, "method") + " " + str(m, "state");
            if (m.contains("profile")) line += ", profile " + str(m, "profile");
            if (m.contains("peer_fingerprint")) line += ", peer fingerprint " + str(m, "peer_fingerprint");
            if (m.contains("sas")) line += ", SAS " + str(m, "sas");
            if (m.contains("failure")) line += ", failed: " + str(m, "failure");
            else if (m.contains("last_error")) line += ", error: " + str(m, "last_error");
            std::printf("%s\n", line.c_str());
        }
    }
}

/// `zrtp show`: per ZRTP leg its state, algorithms, SAS and cache status (never keys).
void print_zrtp(const json& r) {
    std::printf("call %s\n", str(r, "call_id").c_str());
    for (const auto& z : r["streams"]) {
        srtpo::kctl::text_table t({"FIELD", "VALUE"});
        t.add({"stream", str(z, "stream") + " leg " + str(z, "leg")});
        t.add({"state", str(z, "state")});
        t.add({"role", str(z, "role")});
        if (z.contains("algorithms"))
            for (const auto& [k, v] : z["algorithms"].items()) t.add({k, v.is_string() ? v.get<std::string>() : v.dump()});
        if (z.contains("sas")) t.add({"sas", str(z, "sas")});
        t.add({"sas_verified", str(z, "sas_verified")});
        t.add({"peer_sas_verified", str(z, "peer_sas_verified")});
        t.add({"cache", str(z, "cache")});
        if (z.contains("peer_zid")) t.add({"peer_zid", str(z, "peer_zid")});
        t.add({"multistream", str(z, "multistream")});
        if (z.contains("last_error")) t.add({"last_error", str(z, "last_error")});
        std::fputs(t.render().c_str(), stdout);
    }
}

void print_human(const std::string& cmd, const json& r) {
    if (cmd == "flow list") {
        srtpo::kctl::text_table t({"SLOT", "MATCH", "ACTION", "IN", "OUT", "SEND_TO"});
        for (const auto& f : r["flows"]) t.add({str(f, "slot"), str(f, "match"), str(f, "action"), leg_text(f, "in"), leg_text(f, "out"), str(f, "send_to")});
        std::fputs(t.render().c_str(), stdout);
        std::printf("%s of %s slots in use\n", str(r, "count").c_str(), str(r, "capacity").c_str());
    } else if (cmd == "flow show" || cmd == "flow update") {
        print_flow(r);
    } else if (cmd == "flow add") {
        if (r.contains("flows"))
            for (const auto& f : r["flows"]) std::printf("added %s (slot %s)\n", str(f, "match").c_str(), str(f, "slot").c_str());
        else
            std::printf("added %s flows (slots %s..%s)\n", str(r, "added").c_str(), r["slots"].front().dump().c_str(),
                        r["slots"].back().dump().c_str());
    } else if (cmd == "flow del") {
        std::printf("deleted %s\n", str(r, "match").c_str());
    } else if (cmd == "flow rekey") {
        std::printf("rekeyed %s (%s)\n", str(r, "match").c_str(),
                    r.value("make_before_break", false) ? "make-before-break: the old in-key stays valid for the grace time"
                                                        : "immediate");
    } else if (cmd == "stats") {
        srtpo::kctl::text_table t({"MATCH", "ACTION", "PACKETS", "OCTETS", "AUTH_FAIL", "REPLAY_DROP", "IN ROC:SEQ", "OUT ROC:SEQ"});
        for (const auto& f : r["flows"]) {
            const auto& l = f["live"];
            const auto rs = [&](const char* side) {
                return l.is_object() && l.contains(side) ? str(l[side], "roc") + ":" + str(l[side], "seq") : std::string("-");
            };
            t.add({str(f, "match"), str(f, "action"), l.is_object() ? str(l, "packets") : "-", l.is_object() ? str(l, "octets") : "-",
                   l.is_object() ? str(l, "auth_fail") : "-", l.is_object() ? str(l, "replay_drop") : "-", rs("in"), rs("out")});
        }
        std::fputs(t.render().c_str(), stdout);
        const auto& tot = r["total"];
        std::printf("total: %s packets, %s octets, %s auth failures, %s replay drops%s\n", str(tot, "packets").c_str(),
                    str(tot, "octets").c_str(), str(tot, "auth_fail").c_str(), str(tot, "replay_drop").c_str(),
                    r.value("pmd_attached", false) ? "" : " (srtpo-pmd has not attached: no live counters)");
        if (r.contains("calls") && r["calls"].is_object()) std::printf("calls: %s active\n", str(r["calls"], "active").c_str());
        if (r.contains("sip") && r["sip"].is_object()) {
            // The B2BUA's call outcomes (issue 6): a failure reason per line, most frequent first.
            const auto& c = r["sip"]["calls"];
            std::printf("sip calls: %s active (peak %s), %s set up, %s ended, %s failed\n", str(c, "active").c_str(),
                        str(c, "peak_active").c_str(), str(c, "set_up").c_str(), str(c, "ended").c_str(), str(c, "failed").c_str());
            std::vector<std::pair<uint64_t, std::string>> reasons;
            for (const auto& [why, n] : c["failed_by_reason"].items()) reasons.emplace_back(n.get<uint64_t>(), why);
            std::sort(reasons.rbegin(), reasons.rend());
            for (const auto& [n, why] : reasons) std::printf("  failed, %s: %llu\n", why.c_str(), static_cast<unsigned long long>(n));
            const auto& k = r["sip"]["connections"];
            std::printf("sip connections: %s accepted, %s connected, %s closed, %s refused by limits, %s TLS failures, "
                        "%s parse errors\n",
                        str(k, "accepted").c_str(), str(k, "connected").c_str(), str(k, "closed").c_str(), str(k, "refused_limit").c_str(),
                        str(k, "tls_failures").c_str(), str(k, "parse_errors").c_str());
        }
    } else if (cmd == "call offer" || cmd == "call answer") {
        // The rewritten SDP, ready to send on (it holds this leg's keys when it is SDES-keyed).
        std::fputs(r["sdp"].get_ref<const std::string&>().c_str(), stdout);
        for (const auto& n : r["notes"]) std::fprintf(stderr, "keying-ctl: note: %s\n", n.get<std::string>().c_str());
    } else if (cmd == "call list") {
        srtpo::kctl::text_table t({"CALL", "STREAMS", "FLOWS", "PENDING OFFER TO"});
        for (const auto& c : r["calls"]) t.add({str(c, "call_id"), str(c, "streams"), str(c, "flows"), str(c, "pending_offer_to")});
        std::fputs(t.render().c_str(), stdout);
        std::printf("%s calls\n", str(r, "count").c_str());
    } else if (cmd == "call show") {
        srtpo::kctl::text_table t({"STREAM", "MEDIA", "LEG", "KEYING", "SUITE", "LOCAL", "PEER", "RTCP", "FLOW"});
        for (const auto& st : r["streams"]) {
            if (!st.value("anchored", false)) {
                t.add({str(st, "index"), str(st, "media"), "-", "(not anchored)", "-", "-", "-", "-", "-"});
                continue;
            }
            for (const char* leg : {"a", "b"}) {
                const auto& l = st["legs"][leg];
                t.add({str(st, "index"), str(st, "media"), leg, str(l, "method"), str(l, "suite"), str(l, "local"), str(l, "peer"),
                       str(l, "rtcp"), str(l, "flow")});
            }
        }
        std::printf("call %s%s\n", str(r, "call_id").c_str(),
                    r["pending_offer_to"].is_null() ? "" : (", offer pending towards " + str(r, "pending_offer_to")).c_str());
        std::fputs(t.render().c_str(), stdout);
        print_media_paths(r);
    } else if (cmd == "call del") {
        std::printf("deleted call %s\n", str(r, "call_id").c_str());
    } else if (cmd == "zrtp show") {
        print_zrtp(r);
    } else if (cmd == "zrtp verify") {
        std::printf("call %s: SAS %s (streams %s)\n", str(r, "call_id").c_str(),
                    r.value("verified", true) ? "marked verified" : "verification cleared", r["streams"].dump().c_str());
    } else if (cmd == "health") {
        const auto& t = r["table"];
        const auto& p = r["pmd"];
        std::printf("srtpo-cp: %s, up %s s\ntable %s: %s of %s slots\n", str(r, "status").c_str(), str(r, "uptime_s").c_str(),
                    str(t, "name").c_str(), str(t, "flows").c_str(), str(t, "capacity").c_str());
        if (p.value("attached", false))
            std::printf("srtpo-pmd: pid %s, heartbeat %s ms ago (%s)\n", str(p, "pid").c_str(), str(p, "heartbeat_age_ms").c_str(),
                        p.value("alive", false) ? "alive" : "STALE");
        else
            std::printf("srtpo-pmd: not attached (no status region yet)\n");
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"keying-ctl: operator CLI of srtp-offload's control plane (srtpo-cp)", "keying-ctl"};
    app.require_subcommand(1);
    const char* env = std::getenv("SRTPO_CP_SOCKET");
    std::string socket = env ? env : "/run/srtpo/cp.sock";
    bool as_json = false;
    app.add_option("--socket", socket, "srtpo-cp control socket (default $SRTPO_CP_SOCKET or /run/srtpo/cp.sock)");
    app.add_flag("--json", as_json, "print srtpo-cp's JSON result instead of a table");

    auto* flow = app.add_subcommand("flow", "manage flows")->require_subcommand(1);
    flow_opts fo;
    auto* add = flow->add_subcommand("add", "add a flow, or many with --file");
    add_flow_options(add, fo);
    add->add_option("--file", fo.file, "JSON file: a list of flow objects (docs/control-api.md), added all-or-nothing");
    auto* upd = flow->add_subcommand("update", "change a flow; legs without --*-key keep their keys");
    add_flow_options(upd, fo);
    std::string match;
    auto* del = flow->add_subcommand("del", "delete a flow (its slot is zeroized)");
    del->add_option("match", match, "address:port")->required();
    bool reveal = false;
    auto* show = flow->add_subcommand("show", "one flow with its live counters");
    show->add_option("match", match, "address:port")->required();
    show->add_flag("--reveal-keys", reveal, "print master keys (srtpo-cp logs that you asked)");
    auto* list = flow->add_subcommand("list", "every flow");
    leg_opts rin, rout;
    std::optional<uint32_t> rgrace;
    auto* rekey = flow->add_subcommand("rekey", "new master key(s); with a new MKI the old in-key stays valid for the grace time");
    rekey->add_option("match", match, "address:port")->required();
    rekey->add_option("--in-key", rin.key, "new in-leg key-param (with a new MKI for make-before-break), @FILE or -");
    rekey->add_option("--out-key", rout.key, "new out-leg key-param, @FILE or -");
    rekey->add_option("--in-suite", rin.suite, "new in-leg suite (default: unchanged)");
    rekey->add_option("--out-suite", rout.suite, "new out-leg suite (default: unchanged)");
    rekey->add_option("--grace", rgrace, "make-before-break time, ms");
    auto* stats = app.add_subcommand("stats", "live per-flow counters from the pmd's status region");
    stats->add_option("match", match, "only this flow");
    auto* health = app.add_subcommand("health", "srtpo-cp, table and pmd liveness");
    auto* mikey = app.add_subcommand("mikey", "MIKEY (RFC 3830) tools")->require_subcommand(1);
    std::string mikey_msg;
    bool show_keys = false;
    auto* mikey_decode = mikey->add_subcommand("decode", "print a MIKEY message: base64, 'mikey <base64>' or an a=key-mgmt:mikey line");
    mikey_decode->add_option("message", mikey_msg, "the message; '-' or none reads stdin");
    mikey_decode->add_flag("--show-keys", show_keys, "print keys of a NULL-encrypted KEMAC (secrets)");

    auto* call = app.add_subcommand("call", "anchored calls: SDP offer/answer through the call engine (docs/calls.md)")->require_subcommand(1);
    std::string call_id, sdp_file, from, media_address, method;
    std::vector<std::string> suites;
    bool no_mux = false;
    auto* coffer = call->add_subcommand("offer", "an SDP offer from one leg's peer; prints the offer for the other leg");
    coffer->add_option("call_id", call_id, "call id (e.g. the SIP Call-ID)")->required();
    coffer->add_option("sdp", sdp_file, "SDP file, or - / none for stdin");
    coffer->add_option("--from", from, "a (caller, default) or b: whose peer sent the offer");
    coffer->add_option("--method", method, "keying of the other leg: same (default), sdes, plain, mikey, dtls-srtp, zrtp");
    coffer->add_option("--suite", suites, "SDES suite preference for the other leg (repeatable)");
    coffer->add_flag("--no-rtcp-mux", no_mux, "do not offer rtcp-mux to the other leg");
    coffer->add_option("--media-address", media_address, "media address for the other leg ('IP4 192.0.2.10')");
    auto* canswer = call->add_subcommand("answer", "the SDP answer from the leg the offer went to; prints the answer for the offerer");
    canswer->add_option("call_id", call_id, "call id")->required();
    canswer->add_option("sdp", sdp_file, "SDP file, or - / none for stdin");
    canswer->add_option("--from", from, "b (default) or a: whose peer answered");
    auto* cdel = call->add_subcommand("del", "end a call: its flows are deleted, ports and keys released");
    cdel->add_option("call_id", call_id, "call id")->required();
    auto* cshow = call->add_subcommand("show", "one call: keying, suite, addresses and flows per leg (never keys)");
    cshow->add_option("call_id", call_id, "call id")->required();
    auto* clist = call->add_subcommand("list", "every call");

    auto* zrtp = app.add_subcommand("zrtp", "ZRTP legs of a call: SAS and cache (RFC 6189, docs/media-path.md)")->require_subcommand(1);
    long zstream = -1; // -1: every ZRTP leg of the call
    bool unverify = false;
    auto* zshow = zrtp->add_subcommand("show", "state, algorithms, SAS, cache status and peer ZID of each ZRTP leg (never keys)");
    zshow->add_option("call_id", call_id, "call id")->required();
    auto* zverify = zrtp->add_subcommand("verify", "mark the SAS verified in the ZID cache (refused before the leg is secure)");
    zverify->add_option("call_id", call_id, "call id")->required();
    zverify->add_option("--stream", zstream, "only this stream (default: every ZRTP leg of the call)")->check(CLI::NonNegativeNumber);
    zverify->add_flag("--unverify", unverify, "clear the verified mark instead");

    json req;
    std::string cmd;
    try {
        app.parse(argc, argv);
        if (mikey_decode->parsed()) {
            // Offline: decoding needs no daemon (useful in the field on a captured SDP).
            if (mikey_msg.empty() || mikey_msg == "-") mikey_msg.assign(std::istreambuf_iterator<char>(std::cin), {});
            auto r = srtpo::cp::mikey::describe(mikey_msg, as_json ? srtpo::cp::mikey::describe_format::json
                                                                   : srtpo::cp::mikey::describe_format::text,
                                                show_keys);
            if (!r) throw usage_error("mikey decode: " + r.err().message);
            std::fputs(r->c_str(), stdout);
            return 0;
        }
        if (add->parsed()) {
            cmd = "flow add";
            req["op"] = "flow.add";
            if (!fo.file.empty()) {
                std::ifstream f(fo.file);
                if (!f) throw usage_error("--file: cannot read " + fo.file);
                auto j = json::parse(f, nullptr, false);
                if (j.is_discarded() || !j.is_array()) throw usage_error("--file: " + fo.file + " is not a JSON list of flows");
                req["flows"] = std::move(j);
            } else {
                req["flow"] = flow_json(fo, true);
            }
        } else if (upd->parsed()) {
            cmd = "flow update";
            req = {{"op", "flow.update"}, {"flow", flow_json(fo, false)}};
        } else if (del->parsed()) {
            cmd = "flow del";
            req = {{"op", "flow.delete"}, {"match", match}};
        } else if (show->parsed()) {
            cmd = "flow show";
            req = {{"op", "flow.get"}, {"match", match}, {"reveal_keys", reveal}};
        } else if (list->parsed()) {
            cmd = "flow list";
            req = {{"op", "flow.list"}};
        } else if (rekey->parsed()) {
            cmd = "flow rekey";
            req = {{"op", "flow.rekey"}, {"match", match}};
            for (auto [l, side] : {std::pair{&rin, "in"}, std::pair{&rout, "out"}}) {
                if (l->key.empty()) {
                    if (!l->suite.empty()) throw usage_error(std::string("--") + side + "-suite needs --" + side + "-key");
                    continue;
                }
                json j{{"key", read_key(std::string("--") + side + "-key", l->key)}};
                if (!l->suite.empty()) j["suite"] = l->suite;
                req[side] = std::move(j);
            }
            if (!req.contains("in") && !req.contains("out")) throw usage_error("give --in-key and/or --out-key");
            if (rgrace) req["grace_ms"] = *rgrace;
        } else if (stats->parsed()) {
            cmd = "stats";
            req = {{"op", "stats"}};
            if (!match.empty()) req["match"] = match;
        } else if (coffer->parsed() || canswer->parsed()) {
            const bool is_offer = coffer->parsed();
            cmd = is_offer ? "call offer" : "call answer";
            std::string body;
            if (sdp_file.empty() || sdp_file == "-") {
                body.assign(std::istreambuf_iterator<char>(std::cin), {});
            } else {
                std::ifstream f(sdp_file, std::ios::binary);
                if (!f) throw usage_error("cannot read " + sdp_file);
                body.assign(std::istreambuf_iterator<char>(f), {});
            }
            if (body.empty()) throw usage_error("empty SDP");
            if (!from.empty() && from != "a" && from != "b") throw usage_error("--from: a or b");
            req = {{"op", is_offer ? "call.offer" : "call.answer"}, {"call_id", call_id}, {"sdp", std::move(body)}};
            srtpo::engine::secure_zero(body.data(), body.size());
            if (!from.empty()) req["from"] = from;
            if (is_offer) {
                json pol = json::object();
                if (!method.empty()) pol["method"] = method;
                if (!suites.empty()) pol["suites"] = suites;
                if (no_mux) pol["rtcp_mux"] = false;
                if (!media_address.empty()) pol["media_address"] = media_address;
                req["policy"] = std::move(pol);
            }
        } else if (cdel->parsed()) {
            cmd = "call del";
            req = {{"op", "call.delete"}, {"call_id", call_id}};
        } else if (cshow->parsed()) {
            cmd = "call show";
            req = {{"op", "call.get"}, {"call_id", call_id}};
        } else if (clist->parsed()) {
            cmd = "call list";
            req = {{"op", "call.list"}};
        } else if (zshow->parsed()) {
            cmd = "zrtp show";
            req = {{"op", "zrtp.show"}, {"call_id", call_id}};
        } else if (zverify->parsed()) {
            cmd = "zrtp verify";
            req = {{"op", "zrtp.verify"}, {"call_id", call_id}, {"verified", !unverify}};
            if (zstream >= 0) req["stream"] = zstream;
        } else if (health->parsed()) {
            cmd = "health";
            req = {{"op", "health"}};
        }
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : exit_usage;
    } catch (const usage_error& e) {
        std::fprintf(stderr, "keying-ctl: %s\n", e.what());
        wipe(req);
        return exit_usage;
    }

    auto c = srtpo::cp::api::client::connect(socket);
    if (!c) {
        wipe(req);
        std::fprintf(stderr, "keying-ctl: %s\n", c.err().message.c_str());
        return exit_unreachable;
    }
    auto r = c->call(req);
    wipe(req);
    if (!r) {
        std::fprintf(stderr, "keying-ctl: %s\n", r.err().message.c_str());
        return exit_unreachable;
    }
    json& resp = r.value();
    int rc = 0;
    if (!resp.value("ok", false)) {
        const auto& e = resp["error"];
        const std::string f = e.value("field", "");
        std::fprintf(stderr, "keying-ctl: refused (%s)%s: %s\n", e.value("code", "?").c_str(), f.empty() ? "" : (" " + f).c_str(),
                     e.value("message", "").c_str());
        if (as_json) std::printf("%s\n", resp.dump().c_str());
        rc = exit_refused;
    } else if (as_json) {
        std::printf("%s\n", resp["result"].dump(2).c_str());
    } else {
        print_human(cmd, resp["result"]);
    }
    wipe(resp);
    return rc;
}
