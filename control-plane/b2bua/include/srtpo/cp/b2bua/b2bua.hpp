#pragma once
// The B2BUA core (RFC 3261 §13-15 as a UAS on leg A and a UAC on leg B): an INVITE from a caller
// becomes a new INVITE (new Call-ID, tags, branches) towards the next hop that the route table
// picks by request-URI domain; the two dialogs are linked as one call. Provisional and final
// responses are relayed with our own To tag on A; the ACK of a 2xx goes end to end per dialog
// (so a late-offer answer in the ACK reaches the other leg, §13.2.1), a non-2xx is ACKed hop by
// hop by the transactions. The 2xx is retransmitted until its ACK (§13.3.1.4); without an ACK
// after 64*T1 both legs get a BYE. BYE, CANCEL, re-INVITE (either side), in-dialog INFO/MESSAGE/
// NOTIFY are bridged; OPTIONS is answered by us; a lost connection ends its calls.
//
// Every SDP body goes through call::media_handler (offer / answer / reject_offer / remove), so
// the B2BUA never sees keys it keeps: bodies are wiped after use and never logged.
//
// Thread-safety: event loop thread only. Ownership: borrows the loop, the transport and the media
// handler, which must outlive it; owns its transactions and calls.

#include <srtpo/cp/b2bua/sip_config.hpp>
#include <srtpo/cp/b2bua/transport.hpp>
#include <srtpo/cp/call/media_handler.hpp>
#include <srtpo/cp/sip/dialog.hpp>
#include <srtpo/cp/sip/transaction.hpp>

#include "event_loop.hpp"

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace srtpo::cp::b2bua {

class b2bua final : public transport_user {
public:
    struct counters {
        uint64_t calls_set_up = 0;              ///< both legs answered and ACKed
        std::map<std::string, uint64_t> failed; ///< calls that ended before set-up, by reason
        uint64_t calls_ended = 0;               ///< set-up calls that ended (BYE, loss, no ACK)
        std::size_t peak_active = 0;            ///< most calls at once
    };

    b2bua(const sip_config& cfg, event_loop& loop, transport& tp, call::media_handler& media);
    ~b2bua() override;
    b2bua(const b2bua&) = delete;
    b2bua& operator=(const b2bua&) = delete;

    void on_message(sip::message m, const peer& from) override;
    void on_connection_closed(uint64_t connection) override;
    bool in_use(uint64_t connection) const override;

    std::size_t calls_active() const noexcept { return _calls.size(); }
    const counters& stats() const noexcept { return _stats; }

    struct bridged_call;
    struct server_entry;
    struct client_entry;

private:
    // requests
    void on_request(sip::message m, const peer& from);
    void on_new_invite(const std::string& key, const sip::message& m, const peer& from);
    void on_cancel(const sip::message& m, const peer& from);
    void on_ack(const sip::message& m);
    void on_in_dialog(const std::string& key, const sip::message& m, bridged_call& c, call::side from);
    void on_reinvite(const std::string& key, const sip::message& m, bridged_call& c, call::side from);
    void on_bye(const std::string& key, bridged_call& c, call::side from);
    // responses
    void on_response(const sip::message& m);
    void on_invite_response(bridged_call& c, const sip::message& r);
    void on_invite_failure(bridged_call& c, int code, std::string_view reason);
    void on_relay_response(client_entry& e, const sip::message& r);

    // transactions
    std::string start_server(const sip::message& m, const peer& from);
    void respond(const std::string& server_key, const sip::message& resp);
    void respond_code(const std::string& server_key, int code, std::string_view reason = {});
    client_entry* start_client(sip::message req, const peer& to, const std::string& call_id, int purpose,
                               const std::string& server_key = {});
    void schedule_server(const std::string& key);
    void schedule_client(const std::string& key);
    void on_client_actions(const std::string& key, sip::tx_actions a);
    void transmit(const std::vector<std::string>& wires, const peer& to);

    // calls
    bridged_call* find_call(std::string_view call_id, std::string_view local_tag, call::side& side);
    sip::message new_request_for(bridged_call& c, call::side to, std::string_view method);
    void send_ack(bridged_call& c, call::side to, uint32_t cseq, std::string body);
    void start_2xx_retransmit(bridged_call& c);
    void on_2xx_timer(const std::string& call_id);
    void end_call(const std::string& id, std::string_view reason, bool bye_a, bool bye_b);
    void media_error_response(const std::string& server_key, const api::api_error& e, std::string_view to_tag);
    std::string local_tag(const bridged_call& c, call::side s) const;
    std::string branch();
    std::string contact(transport_kind t) const;

    sip_config _cfg;
    event_loop& _loop;
    transport& _tp;
    call::media_handler& _media;
    sip::timer_config _timers;
    std::string _branch_prefix; ///< z9hG4bK + an instance id: our own Via seen again = a loop (482)
    std::unordered_map<std::string, std::unique_ptr<bridged_call>> _calls;              ///< by call id (= leg B's Call-ID)
    std::unordered_map<std::string, std::pair<std::string, call::side>> _dialogs; ///< "Call-ID|our tag" -> call
    std::unordered_map<std::string, std::unique_ptr<server_entry>> _servers;
    std::unordered_map<std::string, std::unique_ptr<client_entry>> _clients;
    counters _stats;
    bool _transport_failure = false; ///< set while a transport error is being delivered (503, not 408)
};

} // namespace srtpo::cp::b2bua
