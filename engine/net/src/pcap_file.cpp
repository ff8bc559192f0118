#include <srtpo/net/pcap_file.hpp>

#include <pcap/pcap.h>

#include <cstdio>
#include <utility>

namespace srtpo::net {

namespace {

constexpr int64_t ns_per_s = 1'000'000'000;

} // namespace

int to_dlt(link_type link) noexcept {
    switch (link) {
    case link_type::ethernet: return DLT_EN10MB;
    case link_type::raw: return DLT_RAW; // 12 on Linux, 14 on OpenBSD; files say LINKTYPE_RAW
    case link_type::linux_sll: return DLT_LINUX_SLL;
    case link_type::ipv4: return DLT_IPV4;
    case link_type::ipv6: return DLT_IPV6;
    case link_type::linux_sll2: return DLT_LINUX_SLL2;
    }
    return -1;
}

std::optional<link_type> from_dlt(int dlt) noexcept {
    switch (dlt) {
    case DLT_EN10MB: return link_type::ethernet;
    case DLT_RAW: return link_type::raw;
    case DLT_LINUX_SLL: return link_type::linux_sll;
    case DLT_IPV4: return link_type::ipv4;
    case DLT_IPV6: return link_type::ipv6;
    case DLT_LINUX_SLL2: return link_type::linux_sll2;
    default: return std::nullopt;
    }
}

// ---------------------------------------------------------------------------------------------
// Reader

struct pcap_reader::handle {
    pcap_t* p = nullptr;
    ~handle() {
        if (p) pcap_close(p);
    }
};

pcap_reader::pcap_reader(const std::string& path) : _h(std::make_unique<handle>()), _path(path) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    // Nanosecond precision scales microsecond files up, so one code path serves both.
    _h->p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!_h->p) throw pcap_error(path + ": cannot open capture: " + errbuf);
}

pcap_reader::~pcap_reader() = default;
pcap_reader::pcap_reader(pcap_reader&&) noexcept = default;
pcap_reader& pcap_reader::operator=(pcap_reader&&) noexcept = default;

int pcap_reader::dlt() const noexcept { return _h ? pcap_datalink(_h->p) : -1; }

std::optional<link_type> pcap_reader::link() const noexcept { return from_dlt(dlt()); }

int pcap_reader::snaplen() const noexcept { return _h ? pcap_snapshot(_h->p) : 0; }

std::optional<pcap_record> pcap_reader::next() {
    if (!_h) throw pcap_error(_path + ": reader was moved from");
    for (;;) {
        pcap_pkthdr* hdr = nullptr;
        const u_char* data = nullptr;
        const int rc = pcap_next_ex(_h->p, &hdr, &data);
        if (rc == PCAP_ERROR_BREAK) return std::nullopt; // end of file
        if (rc != 1) throw pcap_error(_path + ": read error after record " + std::to_string(_read + _truncated) +
                                      ": " + pcap_geterr(_h->p));
        if (hdr->caplen < hdr->len) {
            ++_truncated;
            continue;
        }
        ++_read;
        // With PCAP_TSTAMP_PRECISION_NANO, tv_usec carries nanoseconds.
        const auto ts = std::chrono::nanoseconds{int64_t{hdr->ts.tv_sec} * ns_per_s + int64_t{hdr->ts.tv_usec}};
        return pcap_record{ts, std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), hdr->caplen),
                           hdr->len};
    }
}

// ---------------------------------------------------------------------------------------------
// Writer

struct pcap_writer::handle {
    pcap_t* p = nullptr;
    pcap_dumper_t* d = nullptr;
    ~handle() {
        if (d) pcap_dump_close(d);
        if (p) pcap_close(p);
    }
};

pcap_writer::pcap_writer(const std::string& path, int dlt, options opt)
    : _h(std::make_unique<handle>()), _path(path), _opt(opt) {
    if (dlt < 0) throw pcap_error(path + ": invalid link type " + std::to_string(dlt));
    if (opt.snaplen <= 0) throw pcap_error(path + ": snaplen must be positive");
    const u_int prec = opt.precision == timestamp_precision::nano ? PCAP_TSTAMP_PRECISION_NANO
                                                                 : PCAP_TSTAMP_PRECISION_MICRO;
    _h->p = pcap_open_dead_with_tstamp_precision(dlt, opt.snaplen, prec);
    if (!_h->p) throw pcap_error(path + ": pcap_open_dead failed for link type " + std::to_string(dlt));
    _h->d = pcap_dump_open(_h->p, path.c_str());
    if (!_h->d) throw pcap_error(path + ": cannot create capture: " + pcap_geterr(_h->p));
}

pcap_writer::~pcap_writer() = default; // handle closes; close() is the checked path
pcap_writer::pcap_writer(pcap_writer&&) noexcept = default;
pcap_writer& pcap_writer::operator=(pcap_writer&&) noexcept = default;

void pcap_writer::write(const pcap_record& rec) {
    if (!_h || !_h->d) throw pcap_error(_path + ": write after close");
    const std::size_t caplen = rec.data.size();
    const std::size_t orig = rec.orig_len == 0 ? caplen : rec.orig_len;
    if (caplen > static_cast<std::size_t>(_opt.snaplen))
        throw pcap_error(_path + ": record of " + std::to_string(caplen) + " bytes exceeds snaplen " +
                         std::to_string(_opt.snaplen));
    if (orig < caplen)
        throw pcap_error(_path + ": orig_len " + std::to_string(orig) + " < captured " + std::to_string(caplen));
    if (rec.timestamp.count() < 0) throw pcap_error(_path + ": timestamp before the epoch");

    const int64_t ns = rec.timestamp.count();
    const int64_t frac = ns % ns_per_s;
    pcap_pkthdr hdr{};
    hdr.ts.tv_sec = static_cast<time_t>(ns / ns_per_s);
    hdr.ts.tv_usec = static_cast<suseconds_t>(_opt.precision == timestamp_precision::nano ? frac : frac / 1000);
    hdr.caplen = static_cast<bpf_u_int32>(caplen);
    hdr.len = static_cast<bpf_u_int32>(orig);
    pcap_dump(reinterpret_cast<u_char*>(_h->d), &hdr, reinterpret_cast<const u_char*>(rec.data.data()));
    ++_written;
}

void pcap_writer::close() {
    if (!_h || !_h->d) return;
    // pcap_dump() reports nothing; a failed write (disk full) shows up in the stream's error flag.
    const bool failed = pcap_dump_flush(_h->d) != 0 || std::ferror(pcap_dump_file(_h->d)) != 0;
    pcap_dump_close(_h->d);
    _h->d = nullptr;
    if (failed) throw pcap_error(_path + ": write failed");
}

} // namespace srtpo::net
