#include "table_sync.hpp"

#include "slot_flow.hpp"

#include <rte_lcore.h>

#include <cstdio>
#include <cstring>
#include <thread>

namespace srtpo::pmd {

namespace {

uint64_t now_ns() noexcept {
    // steady_clock is CLOCK_MONOTONIC on Linux, the clock of status_header::heartbeat_ns.
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// Wipes the sync thread's copies of a slot when they go out of scope (they hold session keys).
struct slot_copy {
    table::slot_data d{};
    table::hdrext_record hx{};
    ~slot_copy() {
        table::wipe(d);
        table::wipe(hx);
    }
};

} // namespace

engine::result<std::unique_ptr<table_sync>> table_sync::open(std::string_view name, flow_registry& reg) {
    std::unique_ptr<table_sync> s(new table_sync(reg));
    auto ses = table::sessions_mapping::attach(name);
    if (!ses) return ses.err();
    s->_sessions = std::move(ses.value());
    const uint32_t cap = s->_sessions.capacity();
    if (cap > reg.size())
        return engine::make_error(engine::errc::invalid_argument, "the flow registry has room for " + std::to_string(reg.size()) +
                                                                      " ids, the table has " + std::to_string(cap) + " slots");
    auto st = table::status_mapping::open_or_create(std::string(name) + ".status", cap);
    if (!st) return st.err();
    s->_status = std::move(st.value());
    s->_known.assign(cap, 0);
    s->_ids.resize(256);
    return s;
}

table_sync::~table_sync() { stop(); }

engine::result<void> table_sync::initial_sync() {
    // Status entries describe generations of the table they were written for; a recreated table
    // hands out generations from 1 again, so only the same instance may resume from them.
    const uint64_t seen = table::load_word(_status.header().sessions_instance, std::memory_order_relaxed);
    _resume_ok = seen == _sessions.instance_id();
    auto db = _sessions.make_consumer(_status);
    if (!db) return db.err();
    _db = *db;
    // Always a full scan at start-up (docs/shm-abi.md "Doorbell"), and acknowledge the epoch.
    const uint64_t epoch = _db.begin_resync();
    full_scan();
    _db.end_resync(epoch);
    ++_c.resyncs;
    _status.heartbeat(now_ns());
    return {};
}

std::size_t table_sync::full_scan() {
    std::size_t n = 0;
    for (uint32_t id = 0; id < _known.size(); ++id)
        if (_sessions.peek_generation(id) != _known[id]) {
            apply(id, false);
            ++n;
        }
    return n;
}

void table_sync::refuse(uint32_t id, const std::string& why) {
    ++_c.refused;
    // `why` comes from table::validate / build_slot_flow: it names fields, never key bytes.
    std::fprintf(stderr, "srtpo-pmd: table slot %u refused: %s\n", id, why.c_str());
    if (_reg.current(id)) {
        _reg.remove(id);
        ++_c.removed;
    }
}

void table_sync::apply(uint32_t id, bool rebuild) {
    slot_copy s;
    const bool hx = _sessions.has_header_ext_keys();
    const auto r = _sessions.read(id, s.d, hx ? &s.hx : nullptr);
    if (r == table::read_outcome::busy) {
        ++_c.busy;
        _retry.push_back(id);
        return;
    }
    if (r != table::read_outcome::ok) return;
    if (!rebuild && s.d.generation == _known[id]) return; // a second doorbell for the same change
    flow_entry* cur = _reg.current(id);
    if (rebuild && (!cur || cur->generation != s.d.generation)) return; // superseded meanwhile
    _known[id] = s.d.generation;
    if (s.d.state == table::slot_state::empty) {
        if (cur) {
            _reg.remove(id);
            ++_c.removed;
        }
        return;
    }
    if (auto v = table::validate(s.d, hx); !v) return refuse(id, v.err().message);

    const flow_key key = to_flow_key(s.d.key);
    const bool same_flow = cur && cur->key == key && cur->proto == s.d.key.proto;
    slot_build_options o;
    table::live_snapshot snap;
    if (!same_flow && _resume_ok) {
        snap = _status.load(id);
        if (snap.generation == s.d.generation) o.resume = &snap;
    }
    // Make-before-break: keep accepting the previous in key for rekey_grace_ms.
    if (same_flow && !rebuild && s.d.rekey_grace_ms > 0 && cur->in_leg && table::in_leg_keyed(s.d.action) &&
        !same_leg(*cur->in_leg, s.d.in))
        o.previous_in = cur->in_leg.get();
    auto f = build_slot_flow(s.d, hx ? &s.hx : nullptr, o);
    if (!f) return refuse(id, f.err().message);

    auto e = std::make_unique<flow_entry>();
    e->id = id;
    e->generation = s.d.generation;
    e->key = key;
    e->proto = s.d.key.proto;
    e->act = f->act;
    e->in = std::move(f->in);
    e->out = std::move(f->out);
    e->send_from = f->send_from;
    e->send_to = f->send_to;
    e->live = &_status.live(id);
    e->pred = same_flow ? cur : nullptr;
    if (o.resume) {
        e->resume = true;
        e->packets = snap.packets;
        e->octets = snap.octets;
        e->auth_fail = snap.auth_fail;
        e->replay_drop = snap.replay_drop;
        ++_c.resumed;
    }
    if (table::in_leg_keyed(s.d.action)) e->in_leg.reset(new table::leg_crypto(s.d.in));
    if (f->two_in_keys) e->rebuild_at_ns = now_ns() + uint64_t{s.d.rekey_grace_ms} * 1'000'000u;
    const flow_entry* published = e.get();
    const bool two = f->two_in_keys;
    if (auto p = _reg.publish(std::move(e)); !p) return refuse(id, p.err().message);
    if (two) _rebuilds.emplace_back(id, published);
    ++(rebuild ? _c.rebuilt : same_flow ? _c.rekeyed : _c.applied);
}

std::size_t table_sync::poll_once() {
    std::size_t n = 0;
    const uint64_t now = now_ns();
    _status.heartbeat(now);
    uint64_t epoch = 0;
    if (_db.resync_needed(epoch)) {
        const uint64_t e = _db.begin_resync();
        n += full_scan();
        _db.end_resync(e);
        ++_c.resyncs;
    }
    for (;;) {
        bool overrun = false;
        const std::size_t k = _db.poll(_ids, overrun);
        if (overrun) {
            const uint64_t e = _db.begin_resync();
            n += full_scan();
            _db.end_resync(e);
            ++_c.resyncs;
            break;
        }
        if (k == 0) break;
        for (std::size_t i = 0; i < k; ++i) apply(_ids[i], false);
        n += k;
    }
    if (!_retry.empty()) {
        std::vector<uint32_t> again;
        again.swap(_retry);
        for (auto id : again) apply(id, false);
        n += again.size();
    }
    for (std::size_t i = 0; i < _rebuilds.size();) {
        const auto [id, e] = _rebuilds[i];
        // Compare the pointer before touching the entry: a retired one may be freed already.
        if (_reg.current(id) != e) {
            _rebuilds[i] = _rebuilds.back();
            _rebuilds.pop_back();
        } else if (now >= e->rebuild_at_ns) {
            _rebuilds[i] = _rebuilds.back();
            _rebuilds.pop_back();
            apply(id, true);
            ++n;
        } else {
            ++i;
        }
    }
    _reg.reclaim();
    return n;
}

void* table_sync::thread_main(void* arg) {
    auto* self = static_cast<table_sync*>(arg);
    // A registered non-EAL thread gets an lcore id, which some DPDK libraries expect.
    const bool registered = rte_thread_register() == 0;
    while (!self->_stop.load(std::memory_order_relaxed)) {
        self->poll_once();
        std::this_thread::sleep_for(self->_period);
    }
    if (registered) rte_thread_unregister();
    return nullptr;
}

engine::result<void> table_sync::start(std::chrono::microseconds period) {
    _period = period;
    _stop.store(false, std::memory_order_relaxed);
    if (int rc = rte_ctrl_thread_create(&_t, "srtpo-sync", nullptr, &table_sync::thread_main, this); rc != 0)
        return engine::make_error(engine::errc::io_error, "sync thread: rte_ctrl_thread_create: " + std::string(std::strerror(rc)));
    _running = true;
    return {};
}

void table_sync::stop() {
    _stop.store(true, std::memory_order_relaxed);
    if (_running) pthread_join(_t, nullptr);
    _running = false;
}

} // namespace srtpo::pmd
