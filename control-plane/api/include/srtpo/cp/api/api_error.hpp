#pragma once
// Errors of the control API (docs/control-api.md). Every refusal carries a stable code that
// scripts can test, the request field it is about, and a message for people. Messages never
// contain key material (neither base64 nor bytes).

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace srtpo::cp::api {

enum class api_errc {
    bad_request,      ///< not JSON, not an object, unknown op, wrong field type, unknown field
    invalid_argument, ///< a value out of range or malformed (address syntax, base64, window, ...)
    unknown_suite,    ///< not an SDES crypto-suite name the engine knows
    bad_key_length,   ///< key || salt length wrong for the suite
    unsupported,      ///< valid, but not something the engine or table can carry (e.g. MKI > 16)
    duplicate,        ///< a flow already matches that address:port
    not_found,        ///< no flow matches
    table_full,       ///< no free slot in the session table
    too_large,        ///< a request line over the size limit
    internal,         ///< the table refused a validated image: a bug, reported rather than hidden
};

constexpr std::string_view to_string(api_errc c) noexcept {
    switch (c) {
    case api_errc::bad_request: return "bad_request";
    case api_errc::invalid_argument: return "invalid_argument";
    case api_errc::unknown_suite: return "unknown_suite";
    case api_errc::bad_key_length: return "bad_key_length";
    case api_errc::unsupported: return "unsupported";
    case api_errc::duplicate: return "duplicate";
    case api_errc::not_found: return "not_found";
    case api_errc::table_full: return "table_full";
    case api_errc::too_large: return "too_large";
    case api_errc::internal: return "internal";
    }
    return "internal";
}

struct api_error {
    api_errc code = api_errc::internal;
    std::string field;   ///< "flows[3].in.key"; empty when the whole request is at fault
    std::string message; ///< what is wrong and what would be right
};

inline api_error make_api_error(api_errc c, std::string field, std::string message) {
    return api_error{c, std::move(field), std::move(message)};
}

/// A value or an api_error. Thread-safety: a value type.
template <class T>
class [[nodiscard]] api_result {
public:
    api_result(T v) : _v(std::move(v)) {}
    api_result(api_error e) : _v(std::move(e)) {}
    explicit operator bool() const noexcept { return _v.index() == 0; }
    T& value() & { return std::get<0>(_v); }
    const T& value() const& { return std::get<0>(_v); }
    T&& value() && { return std::get<0>(std::move(_v)); }
    T& operator*() & { return std::get<0>(_v); }
    const T& operator*() const& { return std::get<0>(_v); }
    T&& operator*() && { return std::get<0>(std::move(_v)); }
    T* operator->() { return &std::get<0>(_v); }
    const T* operator->() const { return &std::get<0>(_v); }
    const api_error& err() const { return std::get<1>(_v); }

private:
    std::variant<T, api_error> _v;
};

struct ok_t {};
using api_status = api_result<ok_t>;
inline api_status ok() { return ok_t{}; }

} // namespace srtpo::cp::api
