// Dialogs (RFC 3261 §12) and the requests built from them (§9.1, §12.2.1.1, §13.2.2.4, §17.1.1.3).

#include <srtpo/cp/sip/dialog.hpp>
#include <srtpo/cp/sip/header_values.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <array>

namespace srtpo::cp::sip {
namespace {

error bad(std::string msg) { return engine::make_error(errc::invalid_argument, std::move(msg)); }

result<std::string> random_hex(std::size_t octets) {
    std::array<unsigned char, 16> b{};
    if (octets > b.size() || RAND_bytes(b.data(), static_cast<int>(octets)) != 1)
        return engine::make_error(errc::backend_failure, "RAND_bytes failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < octets; ++i) {
        s.push_back(digits[b[i] >> 4]);
        s.push_back(digits[b[i] & 15]);
    }
    return s;
}

// The URI part of a name-addr without its header parameters (tag), kept in angle brackets.
std::string without_params(const name_addr& n) {
    name_addr copy = n;
    copy.params.clear();
    return to_string(copy);
}

struct dialog_parts {
    name_addr from, to, contact;
    cseq cs;
};

result<dialog_parts> parts(const message& invite, const message& contact_source) {
    const auto* from = invite.header("From");
    const auto* to = invite.header("To");
    const auto* cs = invite.header("CSeq");
    auto contacts = contact_source.header_values("Contact");
    if (!from || !to || !cs) return bad("dialog: From, To or CSeq missing");
    if (contacts.size() != 1) return bad("dialog: exactly one Contact is required (RFC 3261 §12.1)");
    auto f = parse_name_addr(*from);
    auto t = parse_name_addr(*to);
    auto c = parse_name_addr(contacts.front());
    auto q = parse_cseq(*cs);
    if (!f || !t || !c || !q || c->uri == "*") return bad("dialog: malformed From, To, Contact or CSeq");
    return dialog_parts{*f, *t, *c, *q};
}

message base_request(const dialog& d, std::string_view method, uint32_t cseq_no, std::string_view transport,
                     std::string_view sent_by, std::string_view branch) {
    message m;
    m.method = std::string(method);
    m.request_uri = d.remote_target;
    m.add_header("Via", "SIP/2.0/" + std::string(transport) + " " + std::string(sent_by) + ";branch=" + std::string(branch));
    m.add_header("Max-Forwards", "70");
    m.add_header("From", d.local_uri + ";tag=" + d.local_tag);
    m.add_header("To", d.remote_uri + (d.remote_tag.empty() ? "" : ";tag=" + d.remote_tag));
    m.add_header("Call-ID", d.call_id);
    m.add_header("CSeq", to_string(cseq{cseq_no, std::string(method)}));
    for (const auto& r : d.route_set) m.add_header("Route", r);
    return m;
}

} // namespace

result<dialog> dialog_as_uac(const message& invite, const message& response) {
    auto p = parts(invite, response);
    if (!p) return p.err();
    const auto* rto = response.header("To");
    auto to = rto ? parse_name_addr(*rto) : result<name_addr>(bad("no To"));
    if (!to || to->tag().empty()) return bad("dialog: the response's To has no tag");
    dialog d;
    d.call_id = invite.header("Call-ID") ? *invite.header("Call-ID") : std::string{};
    d.local_tag = std::string(p->from.tag());
    d.remote_tag = std::string(to->tag());
    d.local_uri = without_params(p->from);
    d.remote_uri = without_params(p->to);
    d.remote_target = p->contact.uri;
    for (auto rr : response.header_values("Record-Route")) d.route_set.emplace_back(rr);
    std::reverse(d.route_set.begin(), d.route_set.end()); // §12.1.2
    d.local_cseq = p->cs.number;
    return d;
}

result<dialog> dialog_as_uas(const message& invite, std::string_view local_tag) {
    auto p = parts(invite, invite);
    if (!p) return p.err();
    dialog d;
    d.call_id = invite.header("Call-ID") ? *invite.header("Call-ID") : std::string{};
    d.local_tag = std::string(local_tag);
    d.remote_tag = std::string(p->from.tag());
    d.local_uri = without_params(p->to);
    d.remote_uri = without_params(p->from);
    d.remote_target = p->contact.uri;
    for (auto rr : invite.header_values("Record-Route")) d.route_set.emplace_back(rr); // §12.1.1
    d.remote_cseq = p->cs.number;
    return d;
}

message make_in_dialog_request(dialog& d, std::string_view method, std::string_view transport,
                               std::string_view via_sent_by, std::string_view branch) {
    ++d.local_cseq; // §12.2.1.1: one higher than the previous request's
    return base_request(d, method, d.local_cseq, transport, via_sent_by, branch);
}

message make_ack_for_2xx(const dialog& d, uint32_t invite_cseq, std::string_view transport,
                         std::string_view via_sent_by, std::string_view branch) {
    return base_request(d, "ACK", invite_cseq, transport, via_sent_by, branch);
}

result<message> make_cancel(const message& invite) {
    auto vias = invite.header_values("Via");
    const auto* cs = invite.header("CSeq");
    if (vias.empty() || !cs) return bad("CANCEL: the INVITE has no Via or CSeq");
    auto q = parse_cseq(*cs);
    if (!q) return q.err();
    message c;
    c.method = "CANCEL";
    c.request_uri = invite.request_uri;
    c.add_header("Via", std::string(vias.front()));
    c.add_header("Max-Forwards", "70");
    for (const char* h : {"From", "To", "Call-ID"})
        if (const auto* v = invite.header(h)) c.add_header(h, *v);
    c.add_header("CSeq", to_string(cseq{q->number, "CANCEL"}));
    for (const auto& h : invite.headers)
        if (h.name == "Route") c.headers.push_back(h);
    return c;
}

message make_ack_for_non2xx(const message& invite, const message& response) {
    message a;
    a.method = "ACK";
    a.request_uri = invite.request_uri;
    auto vias = invite.header_values("Via");
    if (!vias.empty()) a.add_header("Via", std::string(vias.front()));
    a.add_header("Max-Forwards", "70");
    for (const char* h : {"From", "Call-ID"})
        if (const auto* v = invite.header(h)) a.add_header(h, *v);
    if (const auto* to = response.header("To")) a.add_header("To", *to); // with the response's tag
    if (const auto* cs = invite.header("CSeq"))
        if (auto q = parse_cseq(*cs)) a.add_header("CSeq", to_string(cseq{q->number, "ACK"}));
    for (const auto& h : invite.headers)
        if (h.name == "Route") a.headers.push_back(h);
    return a;
}

result<std::string> new_branch() {
    auto r = random_hex(12);
    if (!r) return r.err();
    return "z9hG4bK" + *r;
}

result<std::string> new_tag() { return random_hex(8); }

} // namespace srtpo::cp::sip
