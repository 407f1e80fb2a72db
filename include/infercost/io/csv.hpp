/// @file
/// A small CSV reader for traces and measurement tables (RFC 4180 subset: comma separator,
/// double-quoted fields with "" escapes, LF or CRLF line ends, a header row). Every parse error
/// is a trace_error naming file, line and column.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"

namespace infercost::io {

/// The bytes of a file. @throws trace_error (line 0) if it cannot be opened or read.
[[nodiscard]] inline std::string read_file(const std::string& path) {
  struct closer {
    std::FILE* f;
    ~closer() {
      if (f)
        std::fclose(f);
    }
  } file{std::fopen(path.c_str(), "rb")};
  if (!file.f)
    throw trace_error(path, 0, 0, "cannot open file");
  std::string text;
  char buf[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, file.f)) > 0)
    text.append(buf, n);
  if (std::ferror(file.f))
    throw trace_error(path, 0, 0, "cannot read file");
  return text;
}

/// A parsed CSV file: header names and rows of fields, with where each came from.
class csv_table {
public:
  /// Parses `text`; `file` names it in errors. @throws trace_error.
  csv_table(std::string_view text, std::string file) : file_(std::move(file)) { parse(text); }

  /// Reads and parses a file. @throws trace_error if it cannot be opened or parsed.
  [[nodiscard]] static csv_table read(const std::string& path) {
    return csv_table(read_file(path), path);
  }

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::vector<std::string>& header() const noexcept { return header_; }
  [[nodiscard]] std::size_t rows() const noexcept { return rows_.size(); }

  /// Index of a named column. @throws trace_error (line 1) when the header lacks it.
  [[nodiscard]] std::size_t column(std::string_view name) const {
    for (std::size_t i = 0; i < header_.size(); ++i)
      if (header_[i] == name)
        return i;
    throw trace_error(file_, 1, 0, fmt::format("missing column '{}'", name));
  }
  /// True when the header has the named column.
  [[nodiscard]] bool has_column(std::string_view name) const noexcept {
    for (const auto& h : header_)
      if (h == name)
        return true;
    return false;
  }

  /// The raw text of a field.
  [[nodiscard]] const std::string& text(std::size_t row, std::size_t col) const {
    return rows_.at(row).fields.at(col);
  }

  /// A field as a finite double. @throws trace_error naming file, line and column.
  [[nodiscard]] double number(std::size_t row, std::size_t col) const {
    const std::string& s = text(row, col);
    double v = 0.0;
    const char* first = s.data();
    const char* last = s.data() + s.size();
    while (first < last && *first == ' ')
      ++first;
    while (last > first && last[-1] == ' ')
      --last;
    const auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc{} || ptr != last || first == last || !std::isfinite(v))
      throw trace_error(file_, rows_[row].line, rows_[row].columns[col],
                        fmt::format("column '{}': '{}' is not a finite number", header_[col], s));
    return v;
  }

  /// Line (1-based) of a data row, for callers' own error messages.
  [[nodiscard]] std::size_t line_of(std::size_t row) const { return rows_.at(row).line; }
  /// Column (1-based, in characters) where a field starts.
  [[nodiscard]] std::size_t column_of(std::size_t row, std::size_t col) const {
    return rows_.at(row).columns.at(col);
  }

private:
  struct row_data {
    std::vector<std::string> fields;
    std::vector<std::size_t> columns;
    std::size_t line = 0;
  };

  void parse(std::string_view text) {
    std::size_t i = 0, line = 1;
    bool first_row = true;
    while (i < text.size()) {
      row_data row;
      row.line = line;
      std::size_t line_start = i;
      for (;;) {
        std::string field;
        row.columns.push_back(i - line_start + 1);
        if (i < text.size() && text[i] == '"') {
          const std::size_t quote_col = i - line_start + 1, quote_line = line;
          ++i;
          for (;;) {
            if (i >= text.size())
              throw trace_error(file_, quote_line, quote_col, "unterminated quoted field");
            if (text[i] == '"') {
              if (i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                i += 2;
                continue;
              }
              ++i;
              break;
            }
            if (text[i] == '\n') {
              ++line;
              line_start = i + 1;
            }
            field += text[i++];
          }
          if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
            throw trace_error(file_, line, i - line_start + 1,
                              "unexpected character after closing quote");
        } else {
          while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
            field += text[i++];
        }
        row.fields.push_back(std::move(field));
        if (i < text.size() && text[i] == ',') {
          ++i;
          continue;
        }
        break;
      }
      if (i < text.size() && text[i] == '\r')
        ++i;
      if (i < text.size() && text[i] == '\n')
        ++i;
      const bool blank = row.fields.size() == 1 && row.fields[0].empty();
      ++line;
      if (blank)
        continue;
      if (first_row) {
        header_ = std::move(row.fields);
        first_row = false;
        continue;
      }
      if (row.fields.size() != header_.size())
        throw trace_error(
            file_, row.line, 1,
            fmt::format("row has {} fields, header has {}", row.fields.size(), header_.size()));
      rows_.push_back(std::move(row));
    }
    if (first_row)
      throw trace_error(file_, 1, 1, "empty file: no header row");
  }

  std::string file_;
  std::vector<std::string> header_;
  std::vector<row_data> rows_;
};

} // namespace infercost::io
