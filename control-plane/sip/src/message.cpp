// The message model's header list operations and the serializer (RFC 3261 §7).

#include <srtpo/cp/sip/header_names.hpp>
#include <srtpo/cp/sip/header_values.hpp>
#include <srtpo/cp/sip/message.hpp>

#include <algorithm>

namespace srtpo::cp::sip {

const std::string* message::header(std::string_view name) const noexcept {
    for (const auto& h : headers)
        if (same_header_name(h.name, name)) return &h.value;
    return nullptr;
}

std::vector<std::string_view> message::header_values(std::string_view name) const {
    std::vector<std::string_view> out;
    const std::string canon = canonical_header_name(name);
    const bool list = is_list_header(canon);
    for (const auto& h : headers) {
        if (!same_header_name(h.name, canon)) continue;
        if (list) {
            for (auto v : split_list(h.value)) out.push_back(v);
        } else {
            out.emplace_back(h.value);
        }
    }
    return out;
}

std::size_t message::header_count(std::string_view name) const noexcept {
    return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(),
        [&](const header_field& h) { return same_header_name(h.name, name); }));
}

void message::add_header(std::string_view name, std::string value) {
    headers.push_back({canonical_header_name(name), std::move(value)});
}

void message::push_front_header(std::string_view name, std::string value) {
    headers.insert(headers.begin(), header_field{canonical_header_name(name), std::move(value)});
}

void message::set_header(std::string_view name, std::string value) {
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const header_field& h) { return same_header_name(h.name, name); });
    if (it == headers.end()) {
        add_header(name, std::move(value));
        return;
    }
    it->value = std::move(value);
    headers.erase(std::remove_if(std::next(it), headers.end(),
                                 [&](const header_field& h) { return same_header_name(h.name, name); }),
                  headers.end());
}

std::size_t message::remove_header(std::string_view name) {
    const auto before = headers.size();
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 [&](const header_field& h) { return same_header_name(h.name, name); }),
                  headers.end());
    return before - headers.size();
}

void message::pop_first_value(std::string_view name) {
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const header_field& h) { return same_header_name(h.name, name); });
    if (it == headers.end()) return;
    auto parts = split_list(it->value);
    if (parts.size() <= 1) {
        headers.erase(it);
        return;
    }
    // Keep the rest of the line from the second element on, as received.
    const auto offset = static_cast<std::size_t>(parts[1].data() - it->value.data());
    it->value.erase(0, offset);
}

std::string serialize(const message& m) {
    std::string out;
    out.reserve(256 + m.body.size() + m.headers.size() * 48);
    if (m.is_request()) {
        out.append(m.method).append(" ").append(m.request_uri).append(" SIP/2.0\r\n");
    } else {
        out.append("SIP/2.0 ").append(std::to_string(m.status_code)).append(" ").append(m.reason).append("\r\n");
    }
    for (const auto& h : m.headers) {
        if (same_header_name(h.name, "Content-Length")) continue;
        out.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    out.append("Content-Length: ").append(std::to_string(m.body.size())).append("\r\n\r\n");
    out.append(m.body);
    return out;
}

} // namespace srtpo::cp::sip
