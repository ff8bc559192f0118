// RFC 3261 §17 transactions driven by a fake clock (timers A-K at their Table 4 values), and the
// §12 dialog helpers (route sets, in-dialog requests, ACK, CANCEL).

#include <srtpo/cp/sip/dialog.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/parser.hpp>
#include <srtpo/cp/sip/response.hpp>
#include <srtpo/cp/sip/transaction.hpp>

#include <gtest/gtest.h>

namespace srtpo::cp::sip {
namespace {

message request(const std::string& method, const std::string& extra = {}) {
    auto m = parse_message(method + " sip:bob@192.0.2.2 SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtx1\r\n"
                           "Max-Forwards: 70\r\nFrom: <sip:alice@192.0.2.1>;tag=a\r\nTo: <sip:bob@192.0.2.2>\r\n"
                           "Call-ID: tx@192.0.2.1\r\nCSeq: 5 " + method + "\r\n"
                           "Contact: <sip:alice@192.0.2.1:5060>\r\n" + extra + "Content-Length: 0\r\n\r\n");
    EXPECT_TRUE(m) << m.err().message;
    return *m;
}

// Runs on_timer at each next_timer() until the transaction ends; returns the fire times of
// every retransmission and whether it timed out.
template <class Tx>
std::pair<std::vector<long>, bool> run_timers(Tx& tx, ms limit = ms{100000}) {
    std::vector<long> sent_at;
    bool timed_out = false;
    while (auto t = tx.next_timer()) {
        if (*t > limit) break;
        auto a = tx.on_timer(*t);
        for (std::size_t i = 0; i < a.send.size(); ++i) sent_at.push_back(static_cast<long>(t->count()));
        timed_out = timed_out || a.timed_out;
    }
    return {sent_at, timed_out};
}

TEST(ClientTransaction, InviteTimerAThenTimerB) {
    client_transaction tx(request("INVITE"), false, ms{0});
    ASSERT_EQ(tx.started().send.size(), 1u);
    EXPECT_EQ(tx.state(), tx_state::calling);
    auto [sent, timed_out] = run_timers(tx);
    // Timer A: T1, doubling (§17.1.1.2); Timer B = 64*T1 = 32 s ends it.
    EXPECT_EQ(sent, (std::vector<long>{500, 1500, 3500, 7500, 15500, 31500}));
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(tx.state(), tx_state::terminated);
}

TEST(ClientTransaction, InviteProvisionalThenFailureSendsAckAndTimerD) {
    const auto inv = request("INVITE");
    client_transaction tx(inv, false, ms{0});
    auto ringing = make_response(inv, 180, "b1");
    auto a1 = tx.on_response(ringing, ms{100});
    ASSERT_EQ(a1.deliver.size(), 1u);
    EXPECT_EQ(tx.state(), tx_state::proceeding);
    EXPECT_FALSE(tx.next_timer()); // no A, no B in Proceeding
    auto busy = make_response(inv, 486, "b1");
    auto a2 = tx.on_response(busy, ms{2000});
    ASSERT_EQ(a2.deliver.size(), 1u);
    ASSERT_EQ(a2.send.size(), 1u);
    auto ack = parse_message(a2.send[0]);
    ASSERT_TRUE(ack) << ack.err().message;
    EXPECT_EQ(ack->method, "ACK");
    EXPECT_EQ(ack->request_uri, inv.request_uri);
    EXPECT_EQ(*ack->header("CSeq"), "5 ACK");
    EXPECT_EQ(parse_name_addr(*ack->header("To"))->tag(), "b1");
    EXPECT_EQ(parse_via(ack->header_values("Via")[0])->branch(), "z9hG4bKtx1"); // same transaction
    // A retransmitted 486 is absorbed and ACKed again.
    auto a3 = tx.on_response(busy, ms{2500});
    EXPECT_TRUE(a3.deliver.empty());
    EXPECT_EQ(a3.send, a2.send);
    EXPECT_EQ(*tx.next_timer(), ms{34000}); // Timer D = 32 s
    tx.on_timer(ms{34000});
    EXPECT_EQ(tx.state(), tx_state::terminated);

    client_transaction tcp(inv, true, ms{0});
    EXPECT_EQ(*tcp.next_timer(), ms{32000}); // only Timer B on a reliable transport
    tcp.on_response(busy, ms{10});
    tcp.on_timer(ms{10}); // Timer D = 0
    EXPECT_EQ(tcp.state(), tx_state::terminated);
}

TEST(ClientTransaction, Invite2xxEndsTheTransaction) {
    const auto inv = request("INVITE");
    client_transaction tx(inv, false, ms{0});
    auto a = tx.on_response(make_response(inv, 200, "b1"), ms{10});
    EXPECT_EQ(a.deliver.size(), 1u);
    EXPECT_TRUE(a.send.empty()); // the TU sends the 2xx ACK
    EXPECT_EQ(tx.state(), tx_state::terminated);
    EXPECT_TRUE(tx.on_transport_error().timed_out);
}

TEST(ClientTransaction, NonInviteTimerECappedAtT2ThenF) {
    client_transaction tx(request("OPTIONS"), false, ms{0});
    EXPECT_EQ(tx.state(), tx_state::trying);
    auto [sent, timed_out] = run_timers(tx);
    EXPECT_EQ(sent, (std::vector<long>{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
    EXPECT_TRUE(timed_out);

    const auto bye = request("BYE");
    client_transaction p(bye, false, ms{0});
    p.on_timer(ms{500}); // next E at 1500
    p.on_response(make_response(bye, 100), ms{600});
    EXPECT_EQ(p.state(), tx_state::proceeding);
    p.on_timer(ms{1500}); // in Proceeding the interval becomes T2
    EXPECT_EQ(*p.next_timer(), ms{5500});
    auto fin = p.on_response(make_response(bye, 200, "b"), ms{2000});
    EXPECT_EQ(fin.deliver.size(), 1u);
    EXPECT_EQ(p.state(), tx_state::completed);
    EXPECT_EQ(*p.next_timer(), ms{7000}); // Timer K = T4
    EXPECT_TRUE(p.on_response(make_response(bye, 200, "b"), ms{2100}).deliver.empty());
    p.on_timer(ms{7000});
    EXPECT_EQ(p.state(), tx_state::terminated);
}

TEST(ServerTransaction, InviteFailureRetransmitsUntilAckThenTimerI) {
    const auto inv = request("INVITE");
    server_transaction tx(inv, false, ms{0});
    ASSERT_EQ(tx.started().send.size(), 1u);
    EXPECT_EQ(parse_message(tx.started().send[0])->status_code, 100);
    EXPECT_EQ(tx.on_request(inv, ms{50}).send, tx.started().send); // retransmitted INVITE -> 100 again
    auto r = tx.respond(make_488(inv, "b1", warn_code::incompatible_media_format, "sbc", "no suite"), ms{100});
    ASSERT_EQ(r.send.size(), 1u);
    EXPECT_EQ(tx.state(), tx_state::completed);
    // Timer G: 600, 1600, then the ACK at 2000 stops G and H.
    EXPECT_EQ(tx.on_timer(ms{600}).send, r.send);
    EXPECT_EQ(tx.on_timer(ms{1600}).send, r.send);
    EXPECT_EQ(*tx.next_timer(), ms{3600});
    tx.on_request(make_ack_for_non2xx(inv, *parse_message(r.send[0])), ms{2000});
    EXPECT_EQ(tx.state(), tx_state::confirmed);
    EXPECT_EQ(*tx.next_timer(), ms{7000}); // Timer I = T4
    tx.on_timer(ms{7000});
    EXPECT_EQ(tx.state(), tx_state::terminated);
}

TEST(ServerTransaction, InviteWithoutAckTimesOutByTimerH) {
    const auto inv = request("INVITE");
    server_transaction tx(inv, false, ms{0});
    tx.respond(make_response(inv, 486, "b1"), ms{0});
    auto [sent, timed_out] = run_timers(tx);
    // Timer G doubles up to T2 (§17.2.1); Timer H = 64*T1 ends it with "no ACK".
    EXPECT_EQ(sent, (std::vector<long>{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
    EXPECT_TRUE(timed_out);
    server_transaction ok(inv, true, ms{0});
    ok.respond(make_response(inv, 200, "b1"), ms{1});
    EXPECT_EQ(ok.state(), tx_state::terminated);
}

TEST(ServerTransaction, NonInviteTimerJ) {
    const auto bye = request("BYE");
    server_transaction tx(bye, false, ms{0});
    EXPECT_TRUE(tx.started().send.empty());
    EXPECT_TRUE(tx.on_request(bye, ms{10}).send.empty()); // Trying: nothing to resend yet
    auto r = tx.respond(make_response(bye, 200, "b"), ms{20});
    EXPECT_EQ(tx.on_request(bye, ms{30}).send, r.send);
    EXPECT_EQ(*tx.next_timer(), ms{32020});
    EXPECT_TRUE(tx.respond(make_response(bye, 500, "b"), ms{40}).send.empty()); // one final only
    tx.on_timer(ms{32020});
    EXPECT_EQ(tx.state(), tx_state::terminated);
    server_transaction tcp(bye, true, ms{0});
    tcp.respond(make_response(bye, 200, "b"), ms{5});
    tcp.on_timer(ms{5});
    EXPECT_EQ(tcp.state(), tx_state::terminated);
}

TEST(TransactionKey, AckMatchesInviteCancelDoesNot) {
    const auto inv = request("INVITE");
    auto k_inv = transaction_key(inv, true);
    ASSERT_TRUE(k_inv);
    EXPECT_EQ(*k_inv, "z9hG4bKtx1|192.0.2.1:5060|INVITE");
    EXPECT_EQ(*transaction_key(make_ack_for_non2xx(inv, make_response(inv, 486, "x")), true), *k_inv);
    EXPECT_NE(*transaction_key(*make_cancel(inv), true), *k_inv);
    EXPECT_EQ(*transaction_key(make_response(inv, 180), false), "z9hG4bKtx1|INVITE");
    message none;
    EXPECT_FALSE(transaction_key(none, true));
}

TEST(Dialog, UacRouteSetTargetAndRequests) {
    const auto inv = request("INVITE", "Record-Route: <sip:p1.example.com;lr>\r\n");
    auto ok = make_response(inv, 200, "b9");
    ok.add_header("Record-Route", "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>");
    ok.add_header("Contact", "<sip:bob@198.51.100.2:5070;transport=tcp>");
    auto d = dialog_as_uac(inv, ok);
    ASSERT_TRUE(d) << d.err().message;
    EXPECT_EQ(d->remote_tag, "b9");
    EXPECT_EQ(d->local_tag, "a");
    EXPECT_EQ(d->remote_target, "sip:bob@198.51.100.2:5070;transport=tcp");
    EXPECT_EQ(d->route_set, (std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}));
    auto ack = make_ack_for_2xx(*d, 5, "TCP", "192.0.2.1:5060", "z9hG4bKack");
    EXPECT_EQ(*ack.header("CSeq"), "5 ACK");
    auto bye = make_in_dialog_request(*d, "BYE", "TCP", "192.0.2.1:5060", "z9hG4bKbye");
    EXPECT_EQ(*bye.header("CSeq"), "6 BYE");
    EXPECT_EQ(bye.request_uri, d->remote_target);
    EXPECT_EQ(bye.header_values("Route").size(), 2u);
    auto wire = parse_message(serialize(bye));
    ASSERT_TRUE(wire) << wire.err().message;
    EXPECT_EQ(parse_name_addr(*wire->header("To"))->tag(), "b9");
    EXPECT_EQ(parse_name_addr(*wire->header("From"))->tag(), "a");
    ok.remove_header("To");
    ok.add_header("To", "<sip:bob@192.0.2.2>");
    EXPECT_FALSE(dialog_as_uac(inv, ok)); // no To tag: no dialog
}

TEST(Dialog, UasAndCancel) {
    const auto inv = request("INVITE", "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n");
    auto d = dialog_as_uas(inv, "mine");
    ASSERT_TRUE(d) << d.err().message;
    EXPECT_EQ(d->remote_tag, "a");
    EXPECT_EQ(d->remote_cseq, 5u);
    EXPECT_EQ(d->route_set.front(), "<sip:p1.example.com;lr>");
    auto bye = make_in_dialog_request(*d, "BYE", "UDP", "192.0.2.2", "z9hG4bKx");
    EXPECT_EQ(bye.request_uri, "sip:alice@192.0.2.1:5060");
    EXPECT_EQ(parse_name_addr(*bye.header("From"))->tag(), "mine");
    auto c = make_cancel(inv);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->request_uri, inv.request_uri);
    EXPECT_EQ(*c->header("CSeq"), "5 CANCEL");
    EXPECT_EQ(c->header_values("Via").size(), 1u);
    EXPECT_TRUE(parse_message(serialize(*c)));
    auto b1 = new_branch();
    auto b2 = new_branch();
    ASSERT_TRUE(b1 && b2);
    EXPECT_TRUE(b1->starts_with("z9hG4bK"));
    EXPECT_NE(*b1, *b2);
    EXPECT_EQ(new_tag()->size(), 16u);
}

} // namespace
} // namespace srtpo::cp::sip
