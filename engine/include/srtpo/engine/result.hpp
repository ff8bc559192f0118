#pragma once
// result<T>: the control path's error channel, a subset shaped like std::expected (C++23) so that
// moving to it later is an alias. Data-path functions never use it: they return `status`.

#include <string>
#include <utility>
#include <variant>

namespace srtpo::engine {

enum class errc {
    invalid_argument, ///< a parameter is out of range or malformed
    bad_key_length,   ///< key or salt length does not match the suite
    unknown_suite,
    unsupported,      ///< valid per the RFC, not implemented (e.g. a non-zero KDR)
    backend_failure,  ///< the crypto library failed while installing keys
    io_error,
};

struct error {
    errc code;
    std::string message; ///< human-readable, never contains key material
};

template <class T>
class [[nodiscard]] result {
public:
    result(T v) : _v(std::move(v)) {}
    result(error e) : _v(std::move(e)) {}
    bool has_value() const noexcept { return _v.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    T& value() & { return std::get<0>(_v); }
    T&& value() && { return std::get<0>(std::move(_v)); }
    const T& value() const& { return std::get<0>(_v); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const error& err() const& { return std::get<1>(_v); }

private:
    std::variant<T, error> _v;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(error e) : _e(std::move(e)), _ok(false) {}
    bool has_value() const noexcept { return _ok; }
    explicit operator bool() const noexcept { return _ok; }
    const error& err() const& { return _e; }

private:
    error _e{};
    bool _ok = true;
};

inline error make_error(errc c, std::string msg) { return error{c, std::move(msg)}; }

} // namespace srtpo::engine
