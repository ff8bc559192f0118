#include "flow_registry.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace srtpo::pmd {

using engine::errc;
using engine::make_error;

namespace {

/// The index keeps 15 bits of the binding serial in each slot (flow_index.hpp).
uint16_t tag_of(const flow_entry& e) noexcept { return static_cast<uint16_t>(e.binding & 0x7fffu); }

flow_key with_port(flow_key k, uint16_t port) noexcept {
    k.port = port;
    return k;
}

} // namespace

engine::result<std::unique_ptr<flow_registry>> flow_registry::create(uint32_t n_ids, unsigned max_workers, int socket_id) {
    std::unique_ptr<flow_registry> r(new flow_registry());
    r->_entries.assign(n_ids, nullptr);

    const std::size_t sz = rte_rcu_qsbr_get_memsize(max_workers);
    r->_rcu = static_cast<rte_rcu_qsbr*>(rte_zmalloc_socket("srtpo_rcu", sz, RTE_CACHE_LINE_SIZE, socket_id));
    if (!r->_rcu) return make_error(errc::invalid_argument, "flow registry: no memory for the RCU variable");
    if (rte_rcu_qsbr_init(r->_rcu, max_workers) != 0)
        return make_error(errc::invalid_argument, "flow registry: rte_rcu_qsbr_init: " + std::string(rte_strerror(rte_errno)));

    // At most two keys per id (P and P + 1); the index keeps its load factor <= 3/4 at that count.
    const auto max_keys = static_cast<uint32_t>(std::clamp<uint64_t>(uint64_t{n_ids} * 2, 64, UINT32_MAX / 2));
    r->_index_bytes = flow_index<flow_entry>::memory_size(max_keys);
    if (rte_eal_has_hugepages()) {
        r->_index_mem = rte_zmalloc_socket("srtpo_flow_index", r->_index_bytes, RTE_CACHE_LINE_SIZE, socket_id);
    } else {
        // EAL on anonymous 4 KiB memory (--no-huge): a private mapping the kernel may back with
        // transparent huge pages, so that a probe is not also a page walk (docs/PERFORMANCE.md §5).
        void* m = mmap(nullptr, r->_index_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            (void)madvise(m, r->_index_bytes, MADV_HUGEPAGE); // best effort: THP may be off
            r->_index_mem = m;
            r->_index_mmapped = true;
        }
    }
    if (!r->_index_mem)
        return make_error(errc::invalid_argument, "flow registry: no memory for the flow index (" + std::to_string(max_keys) +
                                                      " keys, " + std::to_string(r->_index_bytes) + " bytes)");
    // A random seed: which keys share a bucket is not predictable from outside.
    r->_index = std::make_unique<flow_index<flow_entry>>(r->_index_mem, max_keys, rte_rand());
    return r;
}

flow_registry::~flow_registry() {
    for (uint32_t id = 0; id < _entries.size(); ++id) delete current(id);
    for (auto& r : _retired) delete r.e;
    _index.reset();
    if (_index_mmapped) munmap(_index_mem, _index_bytes);
    else rte_free(_index_mem);
    rte_free(_rcu);
}

engine::result<void> flow_registry::bind(flow_entry& e) {
    using status = flow_index<flow_entry>::insert_status;
    if (const auto m = _index->writer_find(e.key); m.entry) {
        if (!m.alias && m.entry->id != e.id)
            return make_error(errc::invalid_argument, "duplicate match: the address and port are already bound by flow " + std::to_string(m.entry->id));
        // Another entry's implicit RTCP port: explicit wins, in one store.
        (void)_index->replace(e.key, &e, false, tag_of(e));
    } else if (const auto st = _index->insert(e.key, &e, false, tag_of(e)); st != status::ok) {
        return make_error(errc::invalid_argument, st == status::full ? "flow table full (the pmd's flow index holds " + std::to_string(_index->size()) + " keys)"
                                                                    : std::string("flow registry: entry address beyond 48 bits"));
    }
    if (e.proto == table::flow_proto::rtp && e.key.port != 65535) {
        const auto k1 = with_port(e.key, static_cast<uint16_t>(e.key.port + 1));
        // No room for the implicit port is not an error: explicit bindings come first.
        if (!_index->writer_find(k1).entry) (void)_index->insert(k1, &e, true, tag_of(e));
    }
    return {};
}

void flow_registry::unbind(const flow_entry& e) {
    if (const auto m = _index->writer_find(e.key); m.entry == &e && !m.alias) {
        (void)_index->erase(e.key);
        // An `rtp` entry on port - 1 gets its implicit RTCP port back.
        if (e.key.port > 0) {
            const auto k0 = with_port(e.key, static_cast<uint16_t>(e.key.port - 1));
            const auto m0 = _index->writer_find(k0);
            if (m0.entry && !m0.alias && m0.entry->proto == table::flow_proto::rtp && current(m0.entry->id) == m0.entry)
                (void)_index->insert(e.key, m0.entry, true, tag_of(*m0.entry));
        }
    }
    if (e.proto == table::flow_proto::rtp && e.key.port != 65535) {
        const auto k1 = with_port(e.key, static_cast<uint16_t>(e.key.port + 1));
        if (const auto m1 = _index->writer_find(k1); m1.entry == &e && m1.alias) (void)_index->erase(k1);
    }
}

engine::result<void> flow_registry::publish(std::unique_ptr<flow_entry> e) {
    if (reinterpret_cast<uintptr_t>(e.get()) >> 48)
        return make_error(errc::invalid_argument, "flow registry: entry address beyond 48 bits"); // never on Linux without a hint
    flow_entry* cur = current(e->id);
    if (cur && cur->key == e->key && cur->proto == e->proto) {
        // A rekey: the same keys now lead to the new entry, each swapped in one store, so a
        // worker finds the old entry or the new one, never neither.
        e->binding = cur->binding;
        flow_entry* n = e.release();
        _entries[n->id] = n;
        if (const auto m = _index->writer_find(n->key); m.entry == cur && !m.alias) (void)_index->replace(n->key, n, false, tag_of(*n));
        if (n->proto == table::flow_proto::rtp && n->key.port != 65535) {
            const auto k1 = with_port(n->key, static_cast<uint16_t>(n->key.port + 1));
            if (const auto m1 = _index->writer_find(k1); m1.entry == cur && m1.alias) (void)_index->replace(k1, n, true, tag_of(*n));
        }
        retire(cur, n->pred == cur ? n : nullptr);
        return {};
    }
    if (cur) remove(e->id);
    e->binding = ++_next_binding;
    flow_entry* n = e.release();
    if (auto b = bind(*n); !b) {
        retire(n, nullptr); // nothing was bound: no worker can have seen it, but one path frees entries
        return b;
    }
    _entries[n->id] = n;
    ++_published;
    return {};
}

void flow_registry::remove(uint32_t id) {
    flow_entry* cur = current(id);
    if (!cur) return;
    unbind(*cur);
    _entries[id] = nullptr;
    --_published;
    retire(cur, nullptr);
}

void flow_registry::retire(flow_entry* old, flow_entry* successor) {
    old->retired = true;
    old->succ = successor;
    _retired.push_back({old, 0, 0});
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
        if (r.periods == 0 && ready(*r.e)) {
            r.token = rte_rcu_qsbr_start(_rcu);
            r.periods = 1;
        }
    std::size_t keep = 0;
    for (auto& r : _retired) {
        if (r.periods != 0 && rte_rcu_qsbr_check(_rcu, r.token, false) == 1) {
            if (r.periods == 1) {
                // First grace period over: workers may still hold it from a staged burst.
                r.token = rte_rcu_qsbr_start(_rcu);
                r.periods = 2;
            } else {
                delete r.e; // sessions zeroize their keys; in_leg is wiped
                ++_freed;
                continue;
            }
        }
        _retired[keep++] = r;
    }
    _retired.resize(keep);
    return keep;
}

} // namespace srtpo::pmd
