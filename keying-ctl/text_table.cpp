#include "text_table.hpp"

#include <algorithm>

namespace srtpo::kctl {

std::string text_table::render() const {
    std::vector<std::size_t> w;
    for (const auto& r : _rows) {
        if (w.size() < r.size()) w.resize(r.size(), 0);
        for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
    }
    std::string out;
    for (const auto& r : _rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line.append(w[i] - r[i].size() + 2, ' ');
        }
        out += line;
        out += '\n';
    }
    return out;
}

} // namespace srtpo::kctl
