#include "flow_registry.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <unordered_set>

namespace srtpo::cp {

using api::api_errc;
using api::make_api_error;

namespace {
/// A slot image that wipes itself (slot_data is trivially copyable, so it cannot).
struct scoped_slot {
    table::slot_data d{};
    ~scoped_slot() { table::wipe(d); }
};
} // namespace

std::size_t flow_registry::key_hash::operator()(const table::endpoint& e) const noexcept {
    // Two multiplicative mixes of the address words and the port, then a final avalanche
    // (the murmur3 fmix64 constants): cheap, and well spread for addresses that differ in a byte.
    uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, e.addr.octets.data(), 8);
    std::memcpy(&lo, e.addr.octets.data() + 8, 8);
    uint64_t h = hi * 0x9e3779b97f4a7c15ull ^ (lo + e.port) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return static_cast<std::size_t>(h);
}

flow_registry::flow_registry(table::sessions_mapping& t, uint16_t default_grace_ms)
    : _table(t), _default_grace(default_grace_ms) {
    _free.reserve(t.capacity());
    for (uint32_t i = t.capacity(); i-- > 0;) _free.push_back(i);
}

std::size_t flow_registry::recover() {
    _flows.clear();
    _free.clear();
    scoped_slot s;
    for (uint32_t i = _table.capacity(); i-- > 0;) {
        if (_table.peek_generation(i) == 0 || _table.read(i, s.d) != table::read_outcome::ok ||
            s.d.state != table::slot_state::active) {
            _free.push_back(i);
            continue;
        }
        entry e{i, s.d.generation, spec_of(s.d)};
        _flows.emplace(e.spec.match, std::move(e));
    }
    return _flows.size();
}

api::api_result<uint64_t> flow_registry::install(uint32_t slot, const table::slot_data& image) {
    auto g = _table.install(slot, image);
    if (!g) return make_api_error(api_errc::internal, "", "table install refused: " + g.err().message);
    return *g;
}

api::api_result<uint64_t> flow_registry::write(uint32_t slot, const api::flow_spec& f, const table::slot_data* current) {
    scoped_slot s;
    if (auto r = build_slot(f, current, f.rekey_grace_ms.value_or(_default_grace), s.d); !r) return r.err();
    return install(slot, s.d);
}

api::api_result<std::vector<added_flow>> flow_registry::add(std::vector<api::flow_spec>&& flows) {
    const bool batch = flows.size() != 1;
    const auto field = [&](std::size_t i) { return batch ? "flows[" + std::to_string(i) + "]" : std::string("flow"); };
    // 1. Check everything, and build every slot image, before writing anything.
    std::unordered_set<table::endpoint, key_hash> seen;
    seen.reserve(flows.size());
    for (std::size_t i = 0; i < flows.size(); ++i) {
        const auto& m = flows[i].match;
        if (_flows.count(m) || !seen.insert(m).second)
            return make_api_error(api_errc::duplicate, field(i) + ".match", api::to_string(m) + " is already a flow");
    }
    if (flows.size() > _free.size())
        return make_api_error(api_errc::table_full, "",
                              "table full: " + std::to_string(_flows.size()) + " of " + std::to_string(_table.capacity()) +
                                  " slots in use, " + std::to_string(flows.size()) + " requested");
    std::vector<scoped_slot> images(flows.size());
    for (std::size_t i = 0; i < flows.size(); ++i)
        if (auto r = build_slot(flows[i], nullptr, flows[i].rekey_grace_ms.value_or(_default_grace), images[i].d); !r) {
            auto e = r.err();
            e.field = field(i) + (e.field.empty() ? "" : "." + e.field);
            return e;
        }
    // 2. Write. install() can only refuse what build_slot() validated, so this does not fail
    // part-way; if it ever does, the flows written so far are erased again.
    std::vector<added_flow> out;
    out.reserve(flows.size());
    for (std::size_t i = 0; i < flows.size(); ++i) {
        const uint32_t slot = _free.back();
        auto g = install(slot, images[i].d);
        if (!g) {
            for (const auto& a : out) {
                (void)_table.erase(a.slot);
                _free.push_back(a.slot);
                _flows.erase(a.match);
            }
            auto e = g.err();
            e.field = field(i);
            return e;
        }
        _free.pop_back();
        out.push_back({flows[i].match, slot, *g});
        const auto m = flows[i].match;
        _flows.emplace(m, entry{slot, *g, std::move(flows[i])});
    }
    return out;
}

api::api_result<flow_view> flow_registry::update(api::flow_spec&& f) {
    auto it = _flows.find(f.match);
    if (it == _flows.end()) return make_api_error(api_errc::not_found, "flow.match", api::to_string(f.match) + " is not a flow");
    scoped_slot cur;
    if (_table.read(it->second.slot, cur.d) != table::read_outcome::ok)
        return make_api_error(api_errc::internal, "", "slot " + std::to_string(it->second.slot) + " could not be read");
    // A leg given without a key keeps the master key srtpo-cp holds (for reveal).
    for (auto [nl, ol] : {std::pair{&f.in, &it->second.spec.in}, std::pair{&f.out, &it->second.spec.out}})
        if (*nl && (*nl)->key_salt.empty() && *ol && (*ol)->suite == (*nl)->suite) {
            (*nl)->key_salt = (*ol)->key_salt;
            (*nl)->mki = (*ol)->mki;
            (*nl)->mki_value = (*ol)->mki_value;
        }
    auto g = write(it->second.slot, f, &cur.d);
    if (!g) return g.err();
    it->second.generation = *g;
    it->second.spec = std::move(f);
    return view(it->second);
}

api::api_status flow_registry::remove(const table::endpoint& match) {
    auto it = _flows.find(match);
    if (it == _flows.end()) return make_api_error(api_errc::not_found, "match", api::to_string(match) + " is not a flow");
    if (auto r = _table.erase(it->second.slot); !r)
        return make_api_error(api_errc::internal, "", "table erase refused: " + r.err().message);
    _free.push_back(it->second.slot);
    _flows.erase(it); // leg_spec's key_salt_buffer wipes the master keys
    return api::ok();
}

api::api_result<flow_view> flow_registry::rekey(rekey_request&& r, bool& make_before_break) {
    auto it = _flows.find(r.match);
    if (it == _flows.end()) return make_api_error(api_errc::not_found, "match", api::to_string(r.match) + " is not a flow");
    if (!r.in && !r.out) return make_api_error(api_errc::invalid_argument, "", "rekey needs \"in\" and/or \"out\" with a new key");
    api::flow_spec f = it->second.spec;
    make_before_break = false;
    for (auto [nl, ol, side] : {std::tuple{&r.in, &f.in, "in"}, std::tuple{&r.out, &f.out, "out"}}) {
        if (!*nl) continue;
        if (!*ol)
            return make_api_error(api_errc::invalid_argument, side,
                                  std::string("the flow has no \"") + side + "\" leg to rekey (use flow update)");
        if ((*nl)->key_salt.empty()) return make_api_error(api_errc::invalid_argument, std::string(side) + ".key", "rekey needs a key");
        if (std::string_view(side) == "in")
            make_before_break = !(*nl)->mki.empty() && (*ol)->mki.size() == (*nl)->mki.size() && (*ol)->mki != (*nl)->mki;
        // The stream state (ROC, replay window, SRTCP index) continues: the pmd carries it over.
        (*nl)->window = (*ol)->window;
        (*nl)->roc = (*ol)->roc;
        *ol = std::move(**nl);
    }
    if (r.grace_ms) f.rekey_grace_ms = r.grace_ms;
    const uint16_t grace = make_before_break ? f.rekey_grace_ms.value_or(_default_grace) : 0;
    scoped_slot cur, s;
    if (_table.read(it->second.slot, cur.d) != table::read_outcome::ok)
        return make_api_error(api_errc::internal, "", "slot " + std::to_string(it->second.slot) + " could not be read");
    if (auto b = build_slot(f, &cur.d, grace, s.d); !b) return b.err();
    auto g = _table.install(it->second.slot, s.d);
    if (!g) return make_api_error(api_errc::internal, "", "table install refused: " + g.err().message);
    it->second.generation = *g;
    it->second.spec = std::move(f);
    return view(it->second);
}

std::optional<flow_view> flow_registry::get(const table::endpoint& match) const {
    auto it = _flows.find(match);
    if (it == _flows.end()) return std::nullopt;
    return view(it->second);
}

std::vector<flow_view> flow_registry::list() const {
    std::vector<flow_view> v;
    v.reserve(_flows.size());
    for (const auto& [k, e] : _flows) v.push_back(view(e));
    std::sort(v.begin(), v.end(), [](const flow_view& a, const flow_view& b) { return a.slot < b.slot; });
    return v;
}

} // namespace srtpo::cp
