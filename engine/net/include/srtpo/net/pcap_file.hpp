#pragma once
// pcap_file: RAII reader and writer of capture files over libpcap.
//
// This is a tool edge (srtpo-pcap, tests, generators), not the packet path, so errors are
// exceptions: every failure throws pcap_error whose message names the file and libpcap's reason.
// Callers that need result<T> convert at their edge (ARCHITECTURE.md principle 7).
//
// Thread-safety: a reader or writer is used by one thread at a time; distinct objects are
// independent. libpcap's header is kept out of this one.

#include <srtpo/net/udp_frame.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace srtpo::net {

/// Thrown by pcap_reader and pcap_writer; what() names the file and the cause.
class pcap_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// libpcap DLT_* value of a link type (DLT_RAW differs between platforms, hence a function).
int to_dlt(link_type link) noexcept;
/// Link type of a libpcap DLT_* value, or nullopt for link types parse_udp_frame() cannot read.
std::optional<link_type> from_dlt(int dlt) noexcept;

/// One captured frame. `data` is the captured bytes (caplen); `orig_len` the length on the wire.
struct pcap_record {
    std::chrono::nanoseconds timestamp{}; ///< since the Unix epoch
    std::span<const std::byte> data;
    uint32_t orig_len = 0; ///< 0 when writing means "same as data.size()"
};

/// Reads pcap and pcapng files (pcap_open_offline), with nanosecond timestamps either way.
class pcap_reader {
public:
    /// Opens `path`. Throws pcap_error if it cannot be opened or is not a capture file.
    explicit pcap_reader(const std::string& path);
    ~pcap_reader();
    pcap_reader(pcap_reader&&) noexcept;
    pcap_reader& operator=(pcap_reader&&) noexcept;
    pcap_reader(const pcap_reader&) = delete;
    pcap_reader& operator=(const pcap_reader&) = delete;

    /// libpcap DLT_* value of the file (of its first interface, for pcapng).
    int dlt() const noexcept;
    /// The file's link type, or nullopt when parse_udp_frame() cannot read it.
    std::optional<link_type> link() const noexcept;
    /// Snapshot length recorded in the file.
    int snaplen() const noexcept;

    /// Next complete record, or nullopt at end of file. Records cut by the snapshot length
    /// (caplen < orig_len) are skipped and counted in truncated_skipped(): a partial datagram can
    /// be neither parsed nor rewritten. Ownership: `data` points into libpcap's buffer and is
    /// valid until the next call or until the reader is destroyed. Throws pcap_error on a read
    /// error (e.g. a file cut in the middle of a record).
    std::optional<pcap_record> next();

    /// Records returned by next() so far.
    uint64_t records_read() const noexcept { return _read; }
    /// Records skipped because caplen < orig_len.
    uint64_t truncated_skipped() const noexcept { return _truncated; }

private:
    struct handle;
    std::unique_ptr<handle> _h;
    std::string _path;
    uint64_t _read = 0;
    uint64_t _truncated = 0;
};

enum class timestamp_precision : uint8_t {
    micro, ///< classic pcap magic 0xa1b2c3d4, readable by every tool
    nano,  ///< nanosecond pcap magic 0xa1b23c4d
};

struct pcap_writer_options {
    timestamp_precision precision = timestamp_precision::micro;
    int snaplen = 262144; ///< tcpdump's default; records longer than this are rejected
};

/// Writes classic pcap files (pcap_open_dead + pcap_dump_open).
class pcap_writer {
public:
    using options = pcap_writer_options;

    /// Creates (truncates) `path` for frames of `dlt`. Throws pcap_error.
    pcap_writer(const std::string& path, int dlt, options opt);
    pcap_writer(const std::string& path, int dlt) : pcap_writer(path, dlt, options{}) {}
    pcap_writer(const std::string& path, link_type link, options opt = {})
        : pcap_writer(path, to_dlt(link), opt) {}
    /// Flushes and closes; errors at this point are swallowed (call close() to see them).
    ~pcap_writer();
    pcap_writer(pcap_writer&&) noexcept;
    pcap_writer& operator=(pcap_writer&&) noexcept;
    pcap_writer(const pcap_writer&) = delete;
    pcap_writer& operator=(const pcap_writer&) = delete;

    /// Appends one record. The timestamp is truncated to the file's precision. Throws
    /// pcap_error if the writer is closed, the record exceeds the snapshot length, or
    /// orig_len < data.size(). Ownership: the bytes are copied into the file buffer.
    void write(const pcap_record& rec);
    void write(std::chrono::nanoseconds timestamp, std::span<const std::byte> data) {
        write(pcap_record{timestamp, data, 0});
    }

    /// Flushes and closes the file. Throws pcap_error if the flush or close fails. Idempotent.
    void close();

    uint64_t records_written() const noexcept { return _written; }

private:
    struct handle;
    std::unique_ptr<handle> _h;
    std::string _path;
    options _opt;
    uint64_t _written = 0;
};

} // namespace srtpo::net
