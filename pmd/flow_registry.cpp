#include "flow_registry.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace srtpo::pmd {

using engine::errc;
using engine::make_error;

namespace {

static_assert(sizeof(void*) == 8, "hash values pack id, binding and a flag into 64 bits");

// Hash value: binding << 32 | id << 1 | rtcp_port. Plain integers, never pointers.
void* encode(uint32_t id, uint32_t binding, bool rtcp_port) noexcept {
    return reinterpret_cast<void*>(uintptr_t{binding} << 32 | uintptr_t{id} << 1 | (rtcp_port ? 1u : 0u));
}
flow_ref decode(const void* v) noexcept {
    const auto x = reinterpret_cast<uintptr_t>(v);
    return {static_cast<uint32_t>((x & 0xffffffffu) >> 1), static_cast<uint32_t>(x >> 32), (x & 1u) != 0};
}

flow_key with_port(flow_key k, uint16_t port) noexcept {
    k.port = port;
    return k;
}

} // namespace

engine::result<std::unique_ptr<flow_registry>> flow_registry::create(uint32_t n_ids, unsigned max_workers, int socket_id) {
    static std::atomic<unsigned> seq{0};
    const std::string name = "srtpo_flows_" + std::to_string(seq++);
    std::unique_ptr<flow_registry> r(new flow_registry());
    r->_entries = std::vector<std::atomic<uintptr_t>>(n_ids);

    const std::size_t sz = rte_rcu_qsbr_get_memsize(max_workers);
    r->_rcu = static_cast<rte_rcu_qsbr*>(rte_zmalloc_socket("srtpo_rcu", sz, RTE_CACHE_LINE_SIZE, socket_id));
    if (!r->_rcu) return make_error(errc::invalid_argument, "flow registry: no memory for the RCU variable");
    if (rte_rcu_qsbr_init(r->_rcu, max_workers) != 0)
        return make_error(errc::invalid_argument, "flow registry: rte_rcu_qsbr_init: " + std::string(rte_strerror(rte_errno)));

    rte_hash_parameters p{};
    p.name = name.c_str();
    // At most two keys per id (P and P + 1). The extendable bucket table makes every insert up to
    // `entries` succeed, however unlucky the cuckoo paths (ext buckets are recycled through RCU).
    p.entries = static_cast<uint32_t>(std::max<uint64_t>(64, uint64_t{n_ids} * 2));
    p.key_len = sizeof(flow_key);
    p.hash_func = rte_jhash;
    p.hash_func_init_val = 0;
    p.socket_id = socket_id;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    r->_h = rte_hash_create(&p);
    if (!r->_h)
        return make_error(errc::invalid_argument, "flow registry: rte_hash_create (" + std::to_string(p.entries) +
                                                      " keys) failed: " + std::string(rte_strerror(rte_errno)));
    rte_hash_rcu_config rc{};
    rc.v = r->_rcu;
    rc.mode = RTE_HASH_QSBR_MODE_DQ;
    if (rte_hash_rcu_qsbr_add(r->_h, &rc) != 0)
        return make_error(errc::invalid_argument, "flow registry: rte_hash_rcu_qsbr_add: " + std::string(rte_strerror(rte_errno)));
    return r;
}

flow_registry::~flow_registry() {
    for (uint32_t id = 0; id < _entries.size(); ++id) delete current(id);
    for (auto& r : _retired) delete r.e;
    if (_h) rte_hash_free(_h);
    rte_free(_rcu);
}

uint64_t flow_registry::lookup_bulk(const flow_key* const* keys, unsigned n, flow_ref* out) const noexcept {
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    uint64_t hit = 0;
    n = std::min<unsigned>(n, RTE_HASH_LOOKUP_BULK_MAX);
    if (n == 0) return 0;
    rte_hash_lookup_bulk_data(_h, reinterpret_cast<const void**>(const_cast<const flow_key**>(keys)), n, &hit, data);
    for (unsigned i = 0; i < n; ++i)
        if (hit >> i & 1u) out[i] = decode(data[i]);
    return hit;
}

void flow_registry::resolve_bulk(const flow_ref* refs, uint64_t hit, unsigned n, flow_entry** out) const noexcept {
    for (unsigned i = 0; i < n; ++i)
        if (hit >> i & 1u) rte_prefetch0(&_entries[refs[i].id]);
    for (unsigned i = 0; i < n; ++i) out[i] = hit >> i & 1u ? resolve(refs[i]) : nullptr;
}

void flow_registry::store(uint32_t id, flow_entry* e) noexcept {
    const auto p = reinterpret_cast<uintptr_t>(e);
    if (p & ~ptr_mask) std::abort(); // a pointer beyond 48 bits would break the tag (never on Linux without a hint)
    _entries[id].store(e ? p | uintptr_t{e->binding & tag_mask} << tag_shift : 0, std::memory_order_release);
}

engine::result<void> flow_registry::bind(const flow_entry& e) {
    void* v = nullptr;
    if (rte_hash_lookup_data(_h, &e.key, &v) >= 0) {
        const auto r = decode(v);
        if (!r.rtcp_port && r.id != e.id)
            return make_error(errc::invalid_argument, "duplicate match: the address and port are already bound by flow " + std::to_string(r.id));
    } else {
        ++_keys;
    }
    // An existing implicit binding (another entry's RTCP port) is overwritten: explicit wins.
    if (int rc = rte_hash_add_key_data(_h, &e.key, encode(e.id, e.binding, false)); rc < 0) {
        --_keys;
        return make_error(errc::invalid_argument, "flow table full (rte_hash_add_key_data: " + std::string(rte_strerror(-rc)) + ")");
    }
    if (e.proto == table::flow_proto::rtp && e.key.port != 65535) {
        const auto k1 = with_port(e.key, static_cast<uint16_t>(e.key.port + 1));
        if (rte_hash_lookup(_h, &k1) < 0 && rte_hash_add_key_data(_h, &k1, encode(e.id, e.binding, true)) >= 0) ++_keys;
    }
    return {};
}

void flow_registry::unbind(const flow_entry& e) {
    void* v = nullptr;
    if (rte_hash_lookup_data(_h, &e.key, &v) >= 0) {
        const auto r = decode(v);
        if (!r.rtcp_port && r.id == e.id) {
            (void)rte_hash_del_key(_h, &e.key);
            --_keys;
            // An `rtp` entry on port - 1 gets its implicit RTCP port back.
            if (e.key.port > 0) {
                const auto k0 = with_port(e.key, static_cast<uint16_t>(e.key.port - 1));
                void* v0 = nullptr;
                if (rte_hash_lookup_data(_h, &k0, &v0) >= 0) {
                    const auto r0 = decode(v0);
                    const flow_entry* o = current(r0.id);
                    if (!r0.rtcp_port && o && o->proto == table::flow_proto::rtp &&
                        rte_hash_add_key_data(_h, &e.key, encode(o->id, o->binding, true)) >= 0)
                        ++_keys;
                }
            }
        }
    }
    if (e.proto == table::flow_proto::rtp && e.key.port != 65535) {
        const auto k1 = with_port(e.key, static_cast<uint16_t>(e.key.port + 1));
        if (rte_hash_lookup_data(_h, &k1, &v) >= 0) {
            const auto r = decode(v);
            if (r.rtcp_port && r.id == e.id) {
                (void)rte_hash_del_key(_h, &k1);
                --_keys;
            }
        }
    }
}

engine::result<void> flow_registry::publish(std::unique_ptr<flow_entry> e) {
    flow_entry* cur = current(e->id);
    if (cur && cur->key == e->key && cur->proto == e->proto) {
        e->binding = cur->binding;
        flow_entry* n = e.release();
        store(n->id, n);
        retire(cur, n->pred == cur ? n : nullptr);
        return {};
    }
    if (cur) remove(e->id);
    e->binding = ++_next_binding;
    // Published before its keys are bound: a worker that finds a key finds the entry.
    flow_entry* n = e.release();
    store(n->id, n);
    if (auto b = bind(*n); !b) {
        store(n->id, nullptr);
        retire(n, nullptr);
        return b;
    }
    ++_published;
    return {};
}

void flow_registry::remove(uint32_t id) {
    flow_entry* cur = current(id);
    if (!cur) return;
    unbind(*cur);
    store(id, nullptr);
    --_published;
    retire(cur, nullptr);
}

void flow_registry::retire(flow_entry* old, flow_entry* successor) {
    old->retired = true;
    old->succ = successor;
    _retired.push_back({old, 0, false});
}

// An entry may go once nobody can adopt from it any more: it has no successor, its successor
// adopted (the owner worker moved the state and let go), or its successor is itself retired
// and may go (the chain ends in a deletion; recursion is as deep as the rekeys not yet seen).
bool flow_registry::ready(const flow_entry& e) const noexcept {
    const flow_entry* s = e.succ;
    if (!s) return true;
    if (s->adopted.load(std::memory_order_acquire)) return true;
    return s->retired && ready(*s);
}

std::size_t flow_registry::reclaim() {
    // In retirement order: an entry is started no later than its successor, so a successor is
    // never freed while an older entry still looks at it through `succ`.
    for (auto& r : _retired)
        if (!r.started && ready(*r.e)) {
            r.token = rte_rcu_qsbr_start(_rcu);
            r.started = true;
        }
    std::size_t keep = 0;
    for (auto& r : _retired) {
        if (r.started && rte_rcu_qsbr_check(_rcu, r.token, false) == 1) {
            delete r.e; // sessions zeroize their keys; in_leg is wiped
            ++_freed;
        } else {
            _retired[keep++] = r;
        }
    }
    _retired.resize(keep);
    return keep;
}

} // namespace srtpo::pmd
