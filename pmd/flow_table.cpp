#include "flow_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

namespace srtpo::pmd {

namespace {
// Values stored in the hash: index << 1 | rtcp_port. Plain integers, never pointers.
void* encode(uint32_t index, bool rtcp_port) noexcept {
    return reinterpret_cast<void*>(static_cast<uintptr_t>(index) << 1 | (rtcp_port ? 1u : 0u));
}
flow_ref decode(void* v) noexcept {
    const auto x = reinterpret_cast<uintptr_t>(v);
    return {static_cast<uint32_t>(x >> 1), (x & 1u) != 0};
}
} // namespace

engine::result<std::unique_ptr<flow_table>> flow_table::create(const std::vector<flow>& flows, int socket_id) {
    static std::atomic<unsigned> seq{0};
    const std::string name = "srtpo_flows_" + std::to_string(seq++);
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = static_cast<uint32_t>(std::max<std::size_t>(64, flows.size() * 4));
    p.key_len = sizeof(flow_key);
    p.hash_func = rte_jhash;
    p.hash_func_init_val = 0;
    p.socket_id = socket_id;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    std::unique_ptr<flow_table> t(new flow_table());
    t->_h = rte_hash_create(&p);
    if (!t->_h)
        return engine::make_error(engine::errc::invalid_argument,
                                  "flow table: rte_hash_create failed: " + std::string(rte_strerror(rte_errno)));
    // Explicit matches first, so that a flow on P + 1 wins over another flow's RTCP port.
    for (std::size_t i = 0; i < flows.size(); ++i) {
        const auto k = make_flow_key(flows[i].match.addr, flows[i].match.port);
        if (int rc = rte_hash_add_key_data(t->_h, &k, encode(static_cast<uint32_t>(i), false)); rc < 0)
            return engine::make_error(engine::errc::invalid_argument, "flow table: adding " + flows[i].label + " failed (" +
                                                                          std::string(rte_strerror(-rc)) + ")");
        ++t->_entries;
    }
    for (std::size_t i = 0; i < flows.size(); ++i) {
        if (flows[i].match.port == 65535) continue;
        const auto k = make_flow_key(flows[i].match.addr, static_cast<uint16_t>(flows[i].match.port + 1));
        if (rte_hash_lookup(t->_h, &k) >= 0) continue;
        if (int rc = rte_hash_add_key_data(t->_h, &k, encode(static_cast<uint32_t>(i), true)); rc < 0)
            return engine::make_error(engine::errc::invalid_argument, "flow table: adding the RTCP port of " + flows[i].label +
                                                                          " failed (" + std::string(rte_strerror(-rc)) + ")");
        ++t->_entries;
    }
    return t;
}

flow_table::~flow_table() {
    if (_h) rte_hash_free(_h);
}

uint64_t flow_table::lookup_bulk(const flow_key* const* keys, unsigned n, flow_ref* out) const noexcept {
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    uint64_t hit = 0;
    n = std::min<unsigned>(n, RTE_HASH_LOOKUP_BULK_MAX);
    if (n == 0) return 0;
    rte_hash_lookup_bulk_data(_h, reinterpret_cast<const void**>(const_cast<const flow_key**>(keys)), n, &hit, data);
    for (unsigned i = 0; i < n; ++i)
        if (hit >> i & 1u) out[i] = decode(data[i]);
    return hit;
}

} // namespace srtpo::pmd
