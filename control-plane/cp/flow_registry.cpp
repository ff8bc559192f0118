#include "flow_registry.hpp"

#include <srtpo/cp/api/endpoint_text.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <tuple>

namespace srtpo::cp {

using api::api_errc;
using api::make_api_error;

namespace {
/// A slot image that wipes itself (slot_data is trivially copyable, so it cannot).
struct scoped_slot {
    table::slot_data d{};
    ~scoped_slot() { table::wipe(d); }
};

/// Allocates the page-aligned part of [p, p + n) now, on transparent huge pages where the kernel
/// allows them. A bulk install touches the registry's entries in order: with 4 KiB pages on
/// demand, every 13th flow took a page fault and the kernel's zeroing of the page, together about
/// a tenth of srtpo-cp's CPU per flow in this VM (docs/PERFORMANCE.md §6.2). Both calls are
/// advice: where THP is off or MADV_POPULATE_WRITE is unknown (Linux < 5.14), pages come on demand.
void prefault_huge(const void* p, std::size_t n) noexcept {
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
    const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
    if (e <= b) return;
    (void)::madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
    (void)::madvise(reinterpret_cast<void*>(b), e - b, MADV_POPULATE_WRITE);
#endif
}
} // namespace

flow_registry::flow_registry(table::sessions_mapping& t, uint16_t default_grace_ms, bool prefault)
    : _table(t), _default_grace(default_grace_ms), _index(t.capacity()) {
    _free.reserve(t.capacity());
    for (uint32_t i = t.capacity(); i-- > 0;) _free.push_back(i);
    // Address space for up to 1 Mi flows at once (pages are touched only as entries are
    // constructed), so a bulk install into a table of that size never moves the entries; a larger
    // table grows the vector geometrically past that.
    _entries.reserve(std::min<uint32_t>(t.capacity(), uint32_t{1} << 20));
    if (prefault) prefault_huge(_entries.data(), _entries.capacity() * sizeof(entry));
}

flow_registry::entry* flow_registry::find(const table::endpoint& match) noexcept {
    const uint32_t s = _index.find(match, [this](uint32_t slot) -> const table::endpoint& { return _entries[slot].spec.match; });
    return s == flow_index::npos ? nullptr : &_entries[s];
}

const flow_registry::entry* flow_registry::find(const table::endpoint& match) const noexcept {
    return const_cast<flow_registry*>(this)->find(match);
}

void flow_registry::put(uint32_t slot, uint64_t generation, api::flow_spec&& spec) {
    // The usual case in a bulk install is the next slot at the end: construct it in place
    // rather than default-construct and then assign (each is a pass over ~300 cold octets).
    if (slot > _entries.size()) _entries.resize(slot);
    if (slot == _entries.size()) {
        _entries.push_back(entry{true, slot, generation, std::move(spec)}); // braces: clang 14 has no parenthesized aggregate init
    } else {
        entry& e = _entries[slot];
        e.used = true;
        e.slot = slot;
        e.generation = generation;
        e.spec = std::move(spec);
    }
    _index.insert(_entries[slot].spec.match, slot);
    ++_count;
}

void flow_registry::drop(entry& e) noexcept {
    _index.erase(e.spec.match, e.slot);
    e.used = false;
    e.spec = api::flow_spec{}; // the legs' key_salt_buffers wipe the master keys
    --_count;
}

std::size_t flow_registry::recover() {
    for (auto& e : _entries)
        if (e.used) drop(e);
    _free.clear();
    scoped_slot s;
    for (uint32_t i = _table.capacity(); i-- > 0;) {
        if (_table.peek_generation(i) == 0 || _table.read(i, s.d) != table::read_outcome::ok ||
            s.d.state != table::slot_state::active) {
            _free.push_back(i);
            continue;
        }
        put(i, s.d.generation, spec_of(s.d));
    }
    return _count;
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

std::size_t flow_registry::first_duplicate(const std::vector<api::flow_spec>& flows) const {
    // The first flow (in request order) whose match is a flow already or repeats an earlier one
    // of the batch. Sorting (match, index) pairs finds the repeats without a hash set of nodes:
    // in each run of equal matches every index but the lowest is a repeat.
    std::size_t first = flows.size();
    for (std::size_t i = 0; i < flows.size() && i < first; ++i)
        if (find(flows[i].match)) first = i;
    if (flows.size() < 2) return first;
    std::vector<std::pair<const table::endpoint*, std::size_t>> order(flows.size());
    for (std::size_t i = 0; i < flows.size(); ++i) order[i] = {&flows[i].match, i};
    const auto less = [](const table::endpoint& a, const table::endpoint& b) {
        if (const int c = std::memcmp(a.addr.octets.data(), b.addr.octets.data(), a.addr.octets.size()); c != 0) return c < 0;
        return a.port < b.port;
    };
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
        if (less(*a.first, *b.first)) return true;
        if (less(*b.first, *a.first)) return false;
        return a.second < b.second;
    });
    for (std::size_t k = 1; k < order.size(); ++k)
        if (*order[k].first == *order[k - 1].first) first = std::min(first, order[k].second);
    return first;
}

api::api_result<std::vector<added_flow>> flow_registry::add(std::vector<api::flow_spec>&& flows) {
    const bool batch = flows.size() != 1;
    const auto field = [&](std::size_t i) { return batch ? "flows[" + std::to_string(i) + "]" : std::string("flow"); };
    // 1. Check everything, and build every slot image, before writing anything.
    if (const auto dup = first_duplicate(flows); dup < flows.size())
        return make_api_error(api_errc::duplicate, field(dup) + ".match", api::to_string(flows[dup].match) + " is already a flow");
    if (flows.size() > _free.size())
        return make_api_error(api_errc::table_full, "",
                              "table full: " + std::to_string(_count) + " of " + std::to_string(_table.capacity()) +
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
                drop(_entries[a.slot]);
            }
            auto e = g.err();
            e.field = field(i);
            return e;
        }
        _free.pop_back();
        out.push_back({flows[i].match, slot, *g});
        put(slot, *g, std::move(flows[i]));
    }
    return out;
}

api::api_result<flow_view> flow_registry::update(api::flow_spec&& f) {
    entry* e = find(f.match);
    if (!e) return make_api_error(api_errc::not_found, "flow.match", api::to_string(f.match) + " is not a flow");
    scoped_slot cur;
    if (_table.read(e->slot, cur.d) != table::read_outcome::ok)
        return make_api_error(api_errc::internal, "", "slot " + std::to_string(e->slot) + " could not be read");
    // A leg given without a key keeps the master key srtpo-cp holds (for reveal).
    for (auto [nl, ol] : {std::pair{&f.in, &e->spec.in}, std::pair{&f.out, &e->spec.out}})
        if (*nl && (*nl)->key_salt.empty() && *ol && (*ol)->suite == (*nl)->suite) {
            (*nl)->key_salt = (*ol)->key_salt;
            (*nl)->mki = (*ol)->mki;
            (*nl)->mki_value = (*ol)->mki_value;
        }
    auto g = write(e->slot, f, &cur.d);
    if (!g) return g.err();
    e->generation = *g;
    e->spec = std::move(f);
    return view(*e);
}

api::api_status flow_registry::remove(const table::endpoint& match) {
    entry* e = find(match);
    if (!e) return make_api_error(api_errc::not_found, "match", api::to_string(match) + " is not a flow");
    if (auto r = _table.erase(e->slot); !r)
        return make_api_error(api_errc::internal, "", "table erase refused: " + r.err().message);
    _free.push_back(e->slot);
    drop(*e);
    return api::ok();
}

api::api_result<flow_view> flow_registry::rekey(rekey_request&& r, bool& make_before_break) {
    entry* e = find(r.match);
    if (!e) return make_api_error(api_errc::not_found, "match", api::to_string(r.match) + " is not a flow");
    if (!r.in && !r.out) return make_api_error(api_errc::invalid_argument, "", "rekey needs \"in\" and/or \"out\" with a new key");
    api::flow_spec f = e->spec;
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
    if (_table.read(e->slot, cur.d) != table::read_outcome::ok)
        return make_api_error(api_errc::internal, "", "slot " + std::to_string(e->slot) + " could not be read");
    if (auto b = build_slot(f, &cur.d, grace, s.d); !b) return b.err();
    auto g = _table.install(e->slot, s.d);
    if (!g) return make_api_error(api_errc::internal, "", "table install refused: " + g.err().message);
    e->generation = *g;
    e->spec = std::move(f);
    return view(*e);
}

std::optional<flow_view> flow_registry::get(const table::endpoint& match) const {
    const entry* e = find(match);
    if (!e) return std::nullopt;
    return view(*e);
}

std::vector<flow_view> flow_registry::list() const {
    std::vector<flow_view> v;
    v.reserve(_count);
    for (const auto& e : _entries) // in slot order
        if (e.used) v.push_back(view(e));
    return v;
}

} // namespace srtpo::cp
