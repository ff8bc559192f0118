// libFuzzer: one control-API request line (what a client writes to srtpo-cp's Unix socket) through
// the JSON parser and api_service::handle, against a real (small) session table. Properties: no
// crash, no sanitizer report, every answer is an object with "ok", a refusal has an error code,
// and the registry and the table agree on how many flows exist.
#include "api_service.hpp"
#include "flow_registry.hpp"

#include <srtpo/table/mapping.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

using namespace srtpo;

namespace {
struct harness {
    std::string name = "srtpo-fuzz-api-" + std::to_string(::getpid());
    std::optional<table::sessions_mapping> t;
    std::optional<cp::flow_registry> reg;
    std::optional<cp::api_service> svc;
    cp::config cfg;
    harness() {
        (void)table::unlink_shm(name);
        auto m = table::sessions_mapping::create(name, 64);
        if (!m) std::abort();
        t = std::move(m.value());
        (void)table::unlink_shm(name); // the mapping stays; no file is left behind
        reg.emplace(*t, 100);
        cfg.table_name = name;
        svc.emplace(*reg, *t, cfg);
        cp::set_log_level(cp::log_level::err);
    }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static harness h;
    auto req = nlohmann::json::parse(data, data + size, nullptr, false);
    if (req.is_discarded()) return 0;
    const auto resp = h.svc->handle(req, {});
    if (!resp.is_object() || !resp.contains("ok")) std::abort();
    if (!resp["ok"].get<bool>() && !resp["error"].contains("code")) std::abort();
    std::size_t used = 0;
    for (uint32_t i = 0; i < h.t->capacity(); ++i) {
        table::slot_data d{};
        if (h.t->read(i, d) == table::read_outcome::ok && d.state == table::slot_state::active) ++used;
        table::wipe(d);
    }
    if (used != h.reg->size()) std::abort();
    return 0;
}
