// srtpo-cp: the control-plane daemon. It alone writes the shared-memory session table and serves
// the control API (docs/control-api.md) on a Unix socket. systemd-friendly: runs in the
// foreground, logs to stdout (with journald priority prefixes under systemd), sends READY=1 to
// $NOTIFY_SOCKET (Type=notify), stops cleanly on SIGTERM/SIGINT and re-reads its config on SIGHUP.
//
//   srtpo-cp [--config FILE] [--table NAME] [--capacity N] [--socket PATH] [--check-config]
//
// Exit codes: 0 clean stop (or a valid config with --check-config), 1 run-time failure (table,
// socket), 2 usage or config error.
//
// Restart: the table outlives the process. A restarted srtpo-cp reopens it (repairing a slot a
// killed writer left mid-write) and rebuilds its flows from the slots, so the pmd never stops
// forwarding and no flow is lost.

#include "api_service.hpp"
#include "config.hpp"
#include "control_socket.hpp"
#include "event_loop.hpp"
#include "flow_registry.hpp"
#include "log.hpp"
#include "media_path_setup.hpp"
#include "port_pool.hpp"
#include "zrtp_api.hpp"

#include <srtpo/cp/call/call_api.hpp>
#include <srtpo/cp/call/call_engine.hpp>
#include <srtpo/cp/media/media_runtime.hpp>

#include <srtpo/cp/b2bua/sip_service.hpp>
#include <srtpo/table/mapping.hpp>

#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

namespace {

using namespace srtpo;
using namespace srtpo::cp;

/// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (path or abstract "@name").
void notify_systemd(const char* state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path || std::strlen(path) >= sizeof(sockaddr_un::sun_path)) return;
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path, std::strlen(path));
    if (a.sun_path[0] == '@') a.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + std::strlen(path));
    (void)::sendto(fd, state, std::strlen(state), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&a), len);
    ::close(fd);
}

struct overrides {
    std::string config_path, table, socket;
    uint32_t capacity = 0;
};

/// The call engine's [media] section (control-plane/call/media_config.hpp), from the same file.
engine::result<call::media_config> effective_media(const overrides& o) {
    if (o.config_path.empty()) return call::media_config{};
    return call::load_media_config(o.config_path);
}

engine::result<config> effective_config(const overrides& o) {
    config c;
    if (!o.config_path.empty()) {
        auto r = load_config(o.config_path);
        if (!r) return r.err();
        c = std::move(r.value());
    }
    if (!o.table.empty()) c.table_name = o.table;
    if (!o.socket.empty()) c.socket_path = o.socket;
    if (o.capacity) c.table_capacity = o.capacity;
    return c;
}

int run(const overrides& o) {
    auto cfg = effective_config(o);
    if (!cfg) {
        log_err(cfg.err().message);
        return 2;
    }
    set_log_level(cfg->level);
    auto media = effective_media(o);
    if (!media) {
        log_err(media.err().message);
        return 2;
    }

    table::sessions_options so;
    so.capacity = cfg->table_capacity;
    // A new table has nothing to recover; scanning it would fault in every page of the (sparse)
    // file: 448 MiB for a million slots.
    const auto shm_name = table::normalize_shm_name(cfg->table_name);
    const bool existed = shm_name && ::access(("/dev/shm" + *shm_name).c_str(), F_OK) == 0;
    // A new table's pages are allocated now rather than on the first write of each page during
    // installs (one fault per 9 slots; docs/PERFORMANCE.md §6, ADR 0016).
    so.prefault = true;
    const auto t0 = std::chrono::steady_clock::now();
    auto sessions = table::sessions_mapping::open_or_create(cfg->table_name, so);
    if (!sessions) {
        log_err("session table " + cfg->table_name + ": " + sessions.err().message);
        return 1;
    }
    if (!existed)
        log_info("session table " + cfg->table_name + " created and its pages allocated in " +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()) +
                 " ms");
    if (sessions->repaired()) log_warn(std::to_string(sessions->repaired()) + " slots left mid-write by a previous writer were erased");

    flow_registry reg(*sessions, cfg->rekey_grace_ms, /*prefault=*/true);
    const std::size_t recovered = existed ? reg.recover() : 0;
    // Logged before the control socket exists, so a client that can connect can also see it.
    if (existed) log_notice(std::to_string(recovered) + " flows recovered from the session table");
    api_service svc(reg, *sessions, *cfg);
    svc.refresh_status();
    auto loop = event_loop::create({SIGTERM, SIGINT, SIGHUP});
    if (!loop) {
        log_err(loop.err().message);
        return 1;
    }
    // Calls (docs/calls.md): media ports from [media], flows through the same registry.
    auto ports = port_pool::create(media->port_min, media->port_max);
    if (!ports) {
        log_err("media ports: " + ports.err().message);
        return 2;
    }
    // Declared before the engine: its media-path keyers use the runtime until they go.
    std::unique_ptr<media::media_runtime> path_runtime;
    call::call_engine calls(reg, *ports, *media);
    svc.add_ops("call.", [&calls](const nlohmann::json& req) { return call::handle_call_op(calls, req); });
    svc.add_ops("zrtp.", [&calls](const nlohmann::json& req) { return handle_zrtp_op(calls, req); });
    svc.add_stats("calls", [&calls] { return nlohmann::json{{"active", calls.calls()}}; });
    auto path_settings = load_media_path_settings(o.config_path);
    if (!path_settings) {
        log_err(path_settings.err().message);
        return 2;
    }

    ::signal(SIGPIPE, SIG_IGN);
    // DTLS-SRTP / ZRTP legs (docs/media-path.md): keyers on media ports, from [dtls] / [zrtp].
    if (auto rt = start_media_path(*path_settings, *loop, calls); rt) {
        path_runtime = std::move(*rt);
    } else {
        log_err(rt.err().message);
        return 1;
    }
    auto sock = control_socket::open(*cfg, *loop, svc);
    if (!sock) {
        log_err("control socket: " + sock.err().message);
        return 1;
    }
    // SIP B2BUA (docs/sip-b2bua.md): listeners bound now, so a busy port fails the start.
    std::unique_ptr<b2bua::sip_service> sip;
    if (cfg->sip.enabled) {
        // Every SDP body of every SIP call goes through the call engine (docs/calls.md).
        auto s = b2bua::sip_service::start(cfg->sip, *loop, calls);
        if (!s) {
            log_err("sip: " + s.err().message);
            return 1;
        }
        sip = std::move(*s);
        svc.add_stats("sip", [&sip] { return sip ? sip->stats_json() : nlohmann::json(nullptr); });
        log_notice("sip: B2BUA listening (" + std::to_string(cfg->sip.listen.size()) + " listeners)");
    }
    // The pmd may start, stop or restart at any time: look for its status region every second.
    std::function<void()> status_tick = [&] {
        svc.refresh_status();
        loop->after(std::chrono::seconds(1), status_tick);
    };
    loop->after(std::chrono::seconds(1), status_tick);
    loop->on_signal([&](int signo) {
        if (signo == SIGHUP) {
            notify_systemd("RELOADING=1");
            auto nc = effective_config(o);
            if (!nc) {
                log_err("reload refused, keeping the running config: " + nc.err().message);
            } else {
                if (nc->table_name != cfg->table_name || nc->table_capacity != cfg->table_capacity)
                    log_warn("table.name/capacity changed in the config: a restart is needed to apply them");
                if (auto nm = effective_media(o); !nm) {
                    log_err("reload: [media] refused, keeping the running one: " + nm.err().message);
                } else {
                    if (nm->port_min != media->port_min || nm->port_max != media->port_max)
                        log_warn("media.port_min/port_max changed in the config: a restart is needed to apply them");
                    calls.reconfigure(*nm);
                }
                if (auto np = load_media_path_settings(o.config_path); np) warn_media_path_reload(*path_settings, *np);
                else log_err("reload: [dtls]/[zrtp] refused: " + np.err().message);
                set_log_level(nc->level);
                reg.set_default_grace(nc->rekey_grace_ms);
                (*sock)->reconfigure(*nc);
                svc.reconfigure(*nc);
                log_notice("configuration reloaded");
            }
            notify_systemd("READY=1");
            return;
        }
        log_notice(std::string("stopping on ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + " with " + std::to_string(reg.size()) +
                   " flows in the table (they stay for the pmd)");
        notify_systemd("STOPPING=1");
        loop->stop();
    });
    log_notice("srtpo-cp ready: table " + cfg->table_name + " (" + std::to_string(reg.capacity()) + " slots, " +
               std::to_string(recovered) + " flows recovered), control socket " + cfg->socket_path);
    notify_systemd("READY=1");
    if (auto r = loop->run(); !r) {
        log_err(r.err().message);
        return 1;
    }
    sip.reset();
    sock->reset();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"srtpo-cp: srtp-offload control plane (session table writer, control API)", "srtpo-cp"};
    overrides o;
    bool check = false;
    app.add_option("--config", o.config_path, "TOML configuration file (docs/control-api.md)")->check(CLI::ExistingFile);
    app.add_option("--table", o.table, "shm name of the session table (overrides table.name)");
    app.add_option("--capacity", o.capacity, "table slots when creating it (overrides table.capacity)")
        ->check(CLI::Range(1u, srtpo::table::max_capacity));
    app.add_option("--socket", o.socket, "control socket path (overrides control.socket)");
    app.add_flag("--check-config", check, "validate the configuration and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    if (check) {
        auto c = effective_config(o);
        if (c) {
            auto m = effective_media(o);
            if (!m) c = m.err();
        }
        if (c) {
            auto p = load_media_path_settings(o.config_path);
            if (!p) c = p.err();
        }
        if (!c) {
            std::fprintf(stderr, "srtpo-cp: %s\n", c.err().message.c_str());
            return 2;
        }
        std::printf("srtpo-cp: configuration OK\n");
        return 0;
    }
    try {
        return run(o);
    } catch (const std::exception& e) {
        log_err(std::string("fatal: ") + e.what());
        return 1;
    }
}
