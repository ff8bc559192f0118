#pragma once
// Operator view of a MIKEY message (what `keying-ctl mikey decode` prints): every field with
// its RFC name, as JSON or as indented text. Keys inside a NULL-encrypted KEMAC are shown as
// lengths unless the caller asks for them (show_keys): output may end up in logs.

#include <srtpo/cp/mikey/message.hpp>
#include <srtpo/engine/result.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace srtpo::cp::mikey {

/// JSON of a decoded message. Thread-safe, pure.
nlohmann::ordered_json to_json(const message& m, bool show_keys = false);
/// Indented "name: value" text of the same content. Thread-safe, pure.
std::string to_text(const nlohmann::ordered_json& j);

enum class describe_format { text, json };

/// Decodes `input` (base64, "mikey <base64>", or a whole "a=key-mgmt:mikey ..." line) and
/// describes it. Thread-safe, pure. Errors: the parse_key_mgmt() and decode() errors, with
/// their messages.
engine::result<std::string> describe(std::string_view input, describe_format f, bool show_keys = false);

} // namespace srtpo::cp::mikey
