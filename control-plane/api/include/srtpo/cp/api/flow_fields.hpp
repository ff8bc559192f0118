#pragma once
// A flow object as read, before validation: for each field the API defines, what JSON value the
// request gave (its kind, and the text, flag or number). parse_flow validates this record, so the
// two readers of flows — the JSON DOM (nlohmann::json, every request) and the streaming reader of
// flow.add batches (flow_batch_reader.hpp) — give the same answers and the same error messages
// from one piece of code.
//
// Thread-safety: value types. Ownership: `str` views point into the reader's storage (the DOM's
// strings or the batch reader's arena) and are valid only while it lives.

#include <srtpo/cp/api/api_error.hpp>
#include <srtpo/cp/api/flow_spec.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace srtpo::cp::api {

/// One JSON value, as far as validation needs to know it.
struct raw_value {
    enum class kind : uint8_t {
        absent,       ///< the field is not in the object
        null,
        string,       ///< `str`
        boolean,      ///< `b`
        unsigned_int, ///< `u`: an integer >= 0
        negative_int,
        number_float,
        object, ///< for a leg, its fields are in the leg_fields next to it
        array,
    };
    kind k = kind::absent;
    bool b = false;
    uint64_t u = 0;
    std::string_view str;

    bool present() const noexcept { return k != kind::absent; }
};

/// The fields of an "in"/"out" object. `first_unknown` is the name of the field the API does not
/// define that sorts first (the DOM keeps an object's keys sorted; so do the error messages).
struct leg_fields {
    raw_value suite, key, window, roc, unencrypted_srtp, unencrypted_srtcp, unauthenticated_srtp;
    bool has_unknown = false;
    std::string_view first_unknown;

    /// The record of field `name`, or nullptr when the API defines no such leg field.
    raw_value* field(std::string_view name) noexcept {
        return name == "suite"                  ? &suite
               : name == "key"                  ? &key
               : name == "window"               ? &window
               : name == "roc"                  ? &roc
               : name == "unencrypted_srtp"     ? &unencrypted_srtp
               : name == "unencrypted_srtcp"    ? &unencrypted_srtcp
               : name == "unauthenticated_srtp" ? &unauthenticated_srtp
                                                : nullptr;
    }
};

/// The fields of a flow object. `in` / `out` hold the leg's fields when in_v / out_v is an object.
struct flow_fields {
    raw_value match, authenticate_only, rtcp_mux, send_from, send_to, rekey_grace_ms;
    raw_value in_v, out_v;
    leg_fields in, out;
    bool has_unknown = false;
    std::string_view first_unknown;

    /// The record of scalar field `name`, or nullptr for "in", "out" (see in_v / out_v) and for
    /// names the API does not define.
    raw_value* field(std::string_view name) noexcept {
        return name == "match"               ? &match
               : name == "authenticate_only" ? &authenticate_only
               : name == "rtcp_mux"          ? &rtcp_mux
               : name == "send_from"         ? &send_from
               : name == "send_to"           ? &send_to
               : name == "rekey_grace_ms"    ? &rekey_grace_ms
                                             : nullptr;
    }
};

/// Notes an unknown field name, keeping the one that sorts first.
inline void note_unknown(bool& has, std::string_view& first, std::string_view name) noexcept {
    if (!has || name < first) first = name;
    has = true;
}

/// Validates a flow read into `f` (see parse_flow for the errors). `is_object`: whether the flow
/// itself was a JSON object. Thread-safety: pure.
api_result<flow_spec> parse_flow_fields(const flow_fields& f, bool is_object, const std::string& field, bool keys_required);

/// Validates a leg read into `l` (`v` is the leg's own value: an object, or what was there).
api_result<leg_spec> parse_leg_fields(const raw_value& v, const leg_fields& l, const std::string& field, bool key_required);

} // namespace srtpo::cp::api
