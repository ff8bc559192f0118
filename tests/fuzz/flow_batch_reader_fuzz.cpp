// libFuzzer, differential: a control-API request line through the streaming flow.add batch reader
// (api::flow_batch_reader) and through the JSON DOM path it stands in for. Properties: no crash, no
// sanitizer report; whenever the reader accepts a line, the DOM parses it too, to the same op and
// the same number of flows, and every flow validates to the same flow or the same error (code,
// field, message) both ways.
#include <srtpo/cp/api/flow_batch_reader.hpp>
#include <srtpo/cp/api/flow_fields.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace srtpo::cp;
using nlohmann::json;

namespace {
std::string outcome_of(const api::api_result<api::flow_spec>& r) {
    if (r) return "ok " + api::to_json(r.value(), true).dump();
    return "error " + std::string(api::to_string(r.err().code)) + " [" + r.err().field + "] " + r.err().message;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static api::flow_batch_reader reader; // reused, as api_service reuses it
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    if (reader.read(line) != api::flow_batch_reader::outcome::read) return 0;
    const json dom = json::parse(line, nullptr, false);
    if (dom.is_discarded() || !dom.is_object()) std::abort();
    const auto op = dom.find("op");
    const auto flows = dom.find("flows");
    if (op == dom.end() || *op != "flow.add" || flows == dom.end() || !flows->is_array()) std::abort();
    if (flows->size() != reader.flows().size()) std::abort();
    for (std::size_t i = 0; i < flows->size(); ++i) {
        const std::string field = "flows[" + std::to_string(i) + "]";
        if (outcome_of(api::parse_flow_fields(reader.flows()[i], true, field, true)) != outcome_of(api::parse_flow((*flows)[i], field)))
            std::abort();
    }
    return 0;
}
