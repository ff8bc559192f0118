#pragma once
// A streaming reader of flow.add batch requests: the request line {"op": "flow.add", "flows":
// [ {...}, ... ]} read with nlohmann's SAX interface straight into one flow_fields per flow,
// without building a JSON DOM. For a bulk install the DOM was the largest single cost of srtpo-cp
// (about 2.7 µs per flow, a dozen allocations each; docs/PERFORMANCE.md §6.2); this reader
// copies the strings into one arena and allocates nothing per flow once warm.
//
// It reads only that exact shape: a top-level object whose keys are "op" (the string "flow.add")
// and "flows" (a non-empty array of objects), in any order. Anything else — another op, an "id",
// a flow that is not an object, invalid JSON — is `not_a_batch`, and the caller answers it
// through the DOM path, which owns every other answer and error message. Validation of what was
// read is parse_flow_fields, the same code the DOM path runs, so both give identical answers
// (tests/cp/flow_batch_reader_test.cpp and the differential fuzzer flow_batch_reader_fuzz check
// this).
//
// Thread-safety: one reader per thread. Ownership: flows() views point into the reader's arena,
// valid until the next read() or clear(); the arena holds keys in base64 and is wiped by clear()
// and the destructor.

#include <srtpo/cp/api/flow_fields.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace srtpo::cp::api {

class flow_batch_reader {
public:
    enum class outcome { read, not_a_batch };

    flow_batch_reader() = default;
    flow_batch_reader(const flow_batch_reader&) = delete;
    flow_batch_reader& operator=(const flow_batch_reader&) = delete;
    ~flow_batch_reader() { clear(); }

    /// Reads one request line (without its newline). Wipes what a previous read left.
    outcome read(std::string_view line);

    /// The flows of the last successful read, in request order.
    std::span<const flow_fields> flows() const noexcept { return _flows; }

    /// Wipes the arena (the keys' base64 text) and forgets the flows; keeps the capacity.
    void clear() noexcept;

private:
    std::string _arena;
    std::vector<flow_fields> _flows;
};

} // namespace srtpo::cp::api
