// srtpo-mikey-decode: print a MIKEY message (base64, "mikey <base64>" or a whole
// "a=key-mgmt:mikey ..." SDP line, RFC 4567) as text or JSON. The library call behind it,
// srtpo::cp::mikey::describe(), is what `keying-ctl mikey decode` exposes.
#include <srtpo/cp/mikey/describe.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
    CLI::App app{"Decode a MIKEY message (RFC 3830) from base64 or an a=key-mgmt:mikey line (RFC 4567)"};
    std::string input;
    bool json = false, show_keys = false;
    app.add_option("message", input, "base64, 'mikey <base64>' or 'a=key-mgmt:mikey <base64>'; '-' or none reads stdin");
    app.add_flag("--json", json, "print JSON instead of text");
    app.add_flag("--show-keys", show_keys, "print keys of a NULL-encrypted KEMAC (they are secrets)");
    CLI11_PARSE(app, argc, argv);
    if (input.empty() || input == "-") input.assign(std::istreambuf_iterator<char>(std::cin), {});
    auto r = srtpo::cp::mikey::describe(input, json ? srtpo::cp::mikey::describe_format::json
                                                    : srtpo::cp::mikey::describe_format::text,
                                        show_keys);
    if (!r) {
        std::cerr << "srtpo-mikey-decode: " << r.err().message << "\n";
        return 1;
    }
    std::cout << *r;
    return 0;
}
