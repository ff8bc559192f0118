#include <srtpo/cp/api/flow_batch_reader.hpp>

#include <srtpo/engine/kdf.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>

namespace srtpo::cp::api {

namespace {

using nlohmann::json;

/// The SAX handler. Returning false from a callback stops the parse: that is how "not the batch
/// shape" is signalled (the DOM path then answers). Contexts nest at most top → flows → flow → leg;
/// values the API does not read (unknown fields, objects or arrays where a scalar belongs) are
/// skipped by depth counting, after their kind is noted.
class batch_sax {
public:
    batch_sax(std::string& arena, std::vector<flow_fields>& flows) : _arena(arena), _flows(flows) {}

    bool complete() const noexcept { return _saw_op && _saw_flows && !_flows.empty() && _depth == 0; }

    bool null() { return scalar([](raw_value& v) { v.k = raw_value::kind::null; }); }
    bool boolean(bool b) {
        return scalar([b](raw_value& v) {
            v.k = raw_value::kind::boolean;
            v.b = b;
        });
    }
    bool number_integer(json::number_integer_t n) {
        return scalar([n](raw_value& v) {
            if (n < 0) v.k = raw_value::kind::negative_int;
            else {
                v.k = raw_value::kind::unsigned_int;
                v.u = static_cast<uint64_t>(n);
            }
        });
    }
    bool number_unsigned(json::number_unsigned_t n) {
        return scalar([n](raw_value& v) {
            v.k = raw_value::kind::unsigned_int;
            v.u = n;
        });
    }
    bool number_float(json::number_float_t, const json::string_t&) {
        return scalar([](raw_value& v) { v.k = raw_value::kind::number_float; });
    }
    bool string(json::string_t& s) {
        const bool ok = take_string(s);
        engine::secure_zero(s.data(), s.size()); // the lexer's buffer may hold a key's base64
        return ok;
    }
    bool binary(json::binary_t&) { return false; } // not produced by JSON text

    bool start_object(std::size_t) {
        if (_skip) {
            ++_skip;
            return true;
        }
        switch (_ctx_top()) {
        case ctx::none: return push(ctx::top);
        case ctx::flows:
            _flows.emplace_back();
            return push(ctx::flow);
        case ctx::flow:
            if (_pending_leg) {
                raw_value& v = _pending_leg == 1 ? _flows.back().in_v : _flows.back().out_v;
                v = raw_value{};
                v.k = raw_value::kind::object;
                (_pending_leg == 1 ? _flows.back().in : _flows.back().out) = leg_fields{};
                _leg = _pending_leg == 1 ? &_flows.back().in : &_flows.back().out;
                _pending_leg = 0;
                return push(ctx::leg);
            }
            [[fallthrough]];
        case ctx::leg: return nested(raw_value::kind::object);
        default: return false; // an object as "op" or "flows"
        }
    }
    bool end_object() {
        if (_skip) {
            --_skip;
            return true;
        }
        --_depth;
        return true;
    }
    bool start_array(std::size_t) {
        if (_skip) {
            ++_skip;
            return true;
        }
        switch (_ctx_top()) {
        case ctx::top:
            if (_pending_top != top_field::flows || _saw_flows) return false;
            _pending_top = top_field::none;
            _saw_flows = true;
            return push(ctx::flows);
        case ctx::flow:
        case ctx::leg: return nested(raw_value::kind::array);
        default: return false; // a flow that is an array, or a nested array
        }
    }
    bool end_array() {
        if (_skip) {
            --_skip;
            return true;
        }
        --_depth;
        return true;
    }

    bool key(json::string_t& k) {
        if (_skip) return true;
        switch (_ctx_top()) {
        case ctx::top:
            if (k == "op") _pending_top = top_field::op;
            else if (k == "flows") _pending_top = top_field::flows;
            else return false;
            return true;
        case ctx::flow: {
            flow_fields& f = _flows.back();
            if (k == "in" || k == "out") {
                _pending_leg = k == "in" ? 1 : 2;
                return true;
            }
            _pending = f.field(k);
            if (_pending) return true;
            std::string_view name;
            if (!copy(k, name)) return false;
            note_unknown(f.has_unknown, f.first_unknown, name);
            _pending_unknown = true;
            return true;
        }
        case ctx::leg: {
            leg_fields& l = *_leg;
            _pending = l.field(k);
            if (_pending) return true;
            std::string_view name;
            if (!copy(k, name)) return false;
            note_unknown(l.has_unknown, l.first_unknown, name);
            _pending_unknown = true;
            return true;
        }
        default: return false;
        }
    }

    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    enum class ctx : uint8_t { none, top, flows, flow, leg };
    enum class top_field : uint8_t { none, op, flows };

    ctx _ctx_top() const noexcept { return _depth == 0 ? ctx::none : _stack[_depth - 1]; }
    bool push(ctx c) {
        if (_depth == _stack.size()) return false;
        _stack[_depth++] = c;
        return true;
    }

    bool take_string(const json::string_t& s) {
        if (_skip) return true;
        if (_ctx_top() == ctx::top && _pending_top == top_field::op) {
            _pending_top = top_field::none;
            _saw_op = s == "flow.add";
            return _saw_op;
        }
        raw_value* v = pending_value();
        if (!v) {
            if (!_pending_unknown) return false;
            _pending_unknown = false;
            return true;
        }
        *v = raw_value{};
        v->k = raw_value::kind::string;
        if (!copy(s, v->str)) return false;
        clear_pending();
        return true;
    }

    /// The raw_value the next scalar belongs to, for a known field of a flow or leg; a leg given
    /// as a scalar ("in": "x") is noted in in_v / out_v.
    raw_value* pending_value() {
        if (_pending) return _pending;
        if (_pending_leg) {
            raw_value& v = _pending_leg == 1 ? _flows.back().in_v : _flows.back().out_v;
            (_pending_leg == 1 ? _flows.back().in : _flows.back().out) = leg_fields{};
            return &v;
        }
        return nullptr;
    }
    void clear_pending() noexcept {
        _pending = nullptr;
        _pending_leg = 0;
    }

    template <class Set>
    bool scalar(Set set) {
        if (_skip) return true;
        raw_value* v = pending_value();
        if (!v) {
            if (!_pending_unknown) return false; // a scalar as "op"'s wrong type, "flows", or a flow
            _pending_unknown = false;
            return true;
        }
        *v = raw_value{};
        set(*v);
        clear_pending();
        return true;
    }

    /// An object or array where the API reads a scalar (or an unknown field's value): note the
    /// kind and skip its contents.
    bool nested(raw_value::kind k) {
        if (raw_value* v = pending_value()) {
            *v = raw_value{};
            v->k = k;
            clear_pending();
        } else if (_pending_unknown) {
            _pending_unknown = false;
        } else {
            return false;
        }
        _skip = 1;
        return true;
    }

    /// Copies a string into the arena. The arena was reserved for the whole line, and no string's
    /// unescaped text is longer than its quoted form, so it never reallocates (earlier views stay
    /// valid); refused rather than risked if that ever failed to hold.
    bool copy(const json::string_t& s, std::string_view& out) {
        if (_arena.size() + s.size() > _arena.capacity()) return false;
        const std::size_t at = _arena.size();
        _arena.append(s);
        out = std::string_view(_arena).substr(at, s.size());
        return true;
    }

    std::string& _arena;
    std::vector<flow_fields>& _flows;
    std::array<ctx, 4> _stack{};
    std::size_t _depth = 0;
    std::size_t _skip = 0; ///< depth inside a skipped object/array
    top_field _pending_top = top_field::none;
    raw_value* _pending = nullptr;
    int _pending_leg = 0; ///< 1: "in", 2: "out" is the next value
    bool _pending_unknown = false;
    leg_fields* _leg = nullptr;
    bool _saw_op = false, _saw_flows = false;
};

} // namespace

flow_batch_reader::outcome flow_batch_reader::read(std::string_view line) {
    clear();
    _arena.reserve(line.size());
    batch_sax h(_arena, _flows);
    const bool parsed = json::sax_parse(line.begin(), line.end(), &h);
    if (parsed && h.complete()) return outcome::read;
    clear();
    return outcome::not_a_batch;
}

void flow_batch_reader::clear() noexcept {
    engine::secure_zero(_arena.data(), _arena.size());
    _arena.clear();
    _flows.clear();
}

} // namespace srtpo::cp::api
