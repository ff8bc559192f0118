#pragma once
// Column-aligned text tables for keying-ctl's human output.
// Thread-safety: a value type. Ownership: holds copies of the cells.

#include <string>
#include <vector>

namespace srtpo::kctl {

class text_table {
public:
    explicit text_table(std::vector<std::string> header) { _rows.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { _rows.push_back(std::move(row)); }
    /// The table, columns padded to their widest cell, two spaces apart, one line per row.
    std::string render() const;

private:
    std::vector<std::vector<std::string>> _rows;
};

} // namespace srtpo::kctl
