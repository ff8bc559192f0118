#pragma once
// Helpers shared by the SIP/SDP/SDES tests: test data location and LF->CRLF loading.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace srtpo::cp::test {

/// Directory of tests/sip/data (SRTPO_SIP_DATA, set by meson).
inline std::string data_dir() {
    const char* d = std::getenv("SRTPO_SIP_DATA");
    return d ? d : "tests/sip/data";
}

inline std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// Test messages are stored with LF line ends (as the RFCs print them): every LF becomes CRLF
/// and "@CL@" becomes the length of the body after the first empty line.
inline std::string wire_form(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out.push_back('\r');
        out.push_back(c);
    }
    auto cl = out.find("@CL@");
    if (cl != std::string::npos) {
        // The placeholder sits in the header section, so the body length does not depend on it.
        const auto body = out.size() - (out.find("\r\n\r\n") + 4);
        out.replace(cl, 4, std::to_string(body));
    }
    return out;
}

} // namespace srtpo::cp::test
