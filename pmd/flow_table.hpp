#pragma once
// flow_table: (family, local address, UDP port) -> flow index, in an rte_hash created with
// lock-free read concurrency (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF) so that a future sync
// thread can add and delete flows while workers look up without locks (ARCHITECTURE.md,
// "Shared-memory session table"). Workers use one bulk lookup per burst.

#include "classify.hpp"
#include "flows_file.hpp"

#include <srtpo/engine/result.hpp>

#include <cstdint>
#include <memory>
#include <vector>

struct rte_hash;

namespace srtpo::pmd {

/// What a key maps to: a flow, and whether the key is that flow's RTCP port (P + 1).
struct flow_ref {
    uint32_t index = 0;
    bool rtcp_port = false;
};

class flow_table {
public:
    /// Builds the table: each flow's match key, and its port + 1 as RTCP-only unless another flow
    /// matches that port explicitly. Allocates (control path). Errors name the rte_hash failure.
    static engine::result<std::unique_ptr<flow_table>> create(const std::vector<flow>& flows, int socket_id);
    ~flow_table();
    flow_table(const flow_table&) = delete;
    flow_table& operator=(const flow_table&) = delete;

    /// Looks up n <= 64 keys; bit i of the returned mask is set when keys[i] matched, and then
    /// out[i] says what. Data path: noexcept, no allocation, lock-free.
    uint64_t lookup_bulk(const flow_key* const* keys, unsigned n, flow_ref* out) const noexcept;

    std::size_t size() const noexcept { return _entries; }

private:
    flow_table() = default;
    rte_hash* _h = nullptr;
    std::size_t _entries = 0;
};

} // namespace srtpo::pmd
