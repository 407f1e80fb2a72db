/// @file
/// A small CSV reader for traces and measurement tables (RFC 4180 subset: comma separator,
/// double-quoted fields with "" escapes, LF or CRLF line ends, a header row, an optional UTF-8
/// byte order mark before it). `csv_reader` streams a file row by row, so its memory does not grow
/// with the file; `csv_table` holds a whole table. Every parse error is a trace_error naming file,
/// line and column.
#pragma once

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "infercost/core/error.hpp"

namespace infercost::io {

namespace detail {

/// Closes a FILE* (std::unique_ptr deleter).
struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_handle = std::unique_ptr<std::FILE, file_closer>;

/// `path` opened for binary reading. @throws trace_error (line 0) if it cannot be opened.
[[nodiscard]] inline file_handle open_for_reading(const std::string& path) {
  errno = 0;
  file_handle f(std::fopen(path.c_str(), "rb"));
  if (!f)
    throw trace_error(path, 0, 0,
                      errno == EISDIR ? "is a directory, not a file" : "cannot open file");
  return f;
}

/// Throws trace_error (line 0) for a read of `path` that failed: a directory (which opens, but
/// reads fail with EISDIR) is said to be one.
[[noreturn]] inline void read_failed(const std::string& path) {
  throw trace_error(path, 0, 0,
                    errno == EISDIR ? "is a directory, not a file" : "cannot read file");
}

/// Bytes from memory or from a file read in 64 KiB chunks, one at a time.
class byte_stream {
public:
  /// The bytes of `text` (not copied: it must outlive the stream).
  explicit byte_stream(std::string_view text) noexcept : buf_(text) {}
  /// The bytes of the file at `path`. @throws trace_error (line 0) if it cannot be opened.
  byte_stream(const std::string& path, std::nullptr_t)
      : file_(open_for_reading(path)), path_(path), storage_(1 << 16) {}

  /// The next byte (0..255) without consuming it, or EOF at the end.
  /// @throws trace_error (line 0) if the file cannot be read.
  int peek() {
    if (pos_ == buf_.size() && !refill())
      return EOF;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  /// The next byte, consumed, or EOF at the end. @throws trace_error as peek.
  int get() {
    const int c = peek();
    if (c != EOF)
      ++pos_;
    return c;
  }
  /// Reads up to the next '\n' (consumed, not stored) into `line`; false at the end of input.
  /// @throws trace_error as peek.
  bool read_line(std::string& line) {
    line.clear();
    if (peek() == EOF)
      return false;
    for (;;) {
      if (pos_ == buf_.size() && !refill())
        return true;
      const std::string_view rest = buf_.substr(pos_);
      const std::size_t nl = rest.find('\n');
      if (nl != std::string_view::npos) {
        line.append(rest.substr(0, nl));
        pos_ += nl + 1;
        return true;
      }
      line.append(rest);
      pos_ = buf_.size();
    }
  }
  /// Consumes a UTF-8 byte order mark (EF BB BF) at the start of the input, if there is one.
  /// Call it before anything else is read: the first chunk then holds the whole mark.
  void skip_bom() {
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (peek() != EOF && buf_.substr(pos_, bom.size()) == bom)
      pos_ += bom.size();
  }

private:
  bool refill() {
    if (!file_)
      return false;
    errno = 0;
    const std::size_t n = std::fread(storage_.data(), 1, storage_.size(), file_.get());
    if (n == 0) {
      if (std::ferror(file_.get()))
        read_failed(path_);
      return false;
    }
    buf_ = std::string_view(storage_.data(), n);
    pos_ = 0;
    return true;
  }

  file_handle file_;
  std::string path_;
  std::vector<char> storage_;
  std::string_view buf_;
  std::size_t pos_ = 0;
};

/// Index of the column `name` in `header` (of `file`). @throws trace_error (line 1) when the
/// header lacks it.
[[nodiscard]] inline std::size_t column_index(const std::vector<std::string>& header,
                                              const std::string& file, std::string_view name) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end())
    throw trace_error(file, 1, 0, fmt::format("missing column '{}'", name));
  return static_cast<std::size_t>(it - header.begin());
}

} // namespace detail

/// The bytes of a file. @throws trace_error (line 0) if it is a directory or cannot be opened or
/// read.
[[nodiscard]] inline std::string read_file(const std::string& path) {
  const detail::file_handle f = detail::open_for_reading(path);
  std::string text;
  char buf[1 << 16];
  std::size_t n = 0;
  errno = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0)
    text.append(buf, n);
  if (std::ferror(f.get()))
    detail::read_failed(path);
  return text;
}

/// One CSV record: its fields, the 1-based column (in bytes) where each starts, and the 1-based
/// line where it starts.
struct csv_row {
  std::vector<std::string> fields;
  std::vector<std::size_t> columns;
  std::size_t line = 0;
};

/// A CSV file read one row at a time: the header is read on construction; `next` yields the
/// data rows, skipping blank lines. Memory holds one row, whatever the file's size.
class csv_reader {
public:
  /// Parses `text` (not copied: it must outlive the reader); `file` names it in errors.
  /// @throws trace_error for an empty file or a malformed header.
  csv_reader(std::string_view text, std::string file) : in_(text), file_(std::move(file)) {
    start();
  }
  /// Opens the file at `path` and reads its header.
  /// @throws trace_error if it is a directory, cannot be read, is empty or its header is
  /// malformed.
  explicit csv_reader(const std::string& path) : in_(path, nullptr), file_(path) { start(); }

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::vector<std::string>& header() const noexcept { return header_; }

  /// Index of a named column. @throws trace_error (line 1) when the header lacks it.
  [[nodiscard]] std::size_t column(std::string_view name) const {
    return detail::column_index(header_, file_, name);
  }
  /// True when the header has the named column.
  [[nodiscard]] bool has_column(std::string_view name) const noexcept {
    return std::find(header_.begin(), header_.end(), name) != header_.end();
  }

  /// The next data row into `row`; false at the end of the file.
  /// @throws trace_error for a malformed row or one whose field count differs from the header's.
  bool next(csv_row& row) {
    while (read_record(row)) {
      if (row.fields.size() == 1 && row.fields[0].empty())
        continue; // a blank line
      if (row.fields.size() != header_.size())
        throw trace_error(
            file_, row.line, 1,
            fmt::format("row has {} fields, header has {}", row.fields.size(), header_.size()));
      return true;
    }
    return false;
  }

private:
  void start() {
    in_.skip_bom();
    csv_row row;
    while (read_record(row)) {
      if (row.fields.size() == 1 && row.fields[0].empty())
        continue;
      header_ = std::move(row.fields);
      return;
    }
    throw trace_error(file_, 1, 1, "empty file: no header row");
  }

  /// One record (blank lines give one empty field); false at the end of input.
  bool read_record(csv_row& row) {
    if (in_.peek() == EOF)
      return false;
    row.fields.clear();
    row.columns.clear();
    row.line = line_;
    std::size_t col = 1; // 1-based column of the next byte
    for (;;) {
      std::string field;
      row.columns.push_back(col);
      if (in_.peek() == '"') {
        const std::size_t quote_col = col, quote_line = line_;
        in_.get();
        ++col;
        for (;;) {
          const int c = in_.get();
          if (c == EOF)
            throw trace_error(file_, quote_line, quote_col, "unterminated quoted field");
          ++col;
          if (c == '"') {
            if (in_.peek() == '"') {
              in_.get();
              ++col;
              field += '"';
              continue;
            }
            break;
          }
          if (c == '\n') {
            ++line_;
            col = 1;
          }
          field += static_cast<char>(c);
        }
        const int c = in_.peek();
        if (c != EOF && c != ',' && c != '\n' && c != '\r')
          throw trace_error(file_, line_, col, "unexpected character after closing quote");
      } else {
        for (int c = in_.peek(); c != EOF && c != ',' && c != '\n' && c != '\r'; c = in_.peek()) {
          field += static_cast<char>(in_.get());
          ++col;
        }
      }
      row.fields.push_back(std::move(field));
      if (in_.peek() == ',') {
        in_.get();
        ++col;
        continue;
      }
      break;
    }
    if (in_.peek() == '\r')
      in_.get();
    if (in_.peek() == '\n')
      in_.get();
    ++line_;
    return true;
  }

  detail::byte_stream in_;
  std::string file_;
  std::vector<std::string> header_;
  std::size_t line_ = 1; ///< line of the next record
};

/// A parsed CSV file: header names and rows of fields, with where each came from.
class csv_table {
public:
  /// Parses `text`; `file` names it in errors. @throws trace_error.
  csv_table(std::string_view text, std::string file) : file_(std::move(file)) {
    csv_reader in(text, file_);
    load(in);
  }
  /// The rest of `in` (all of it when nothing was read yet). @throws trace_error.
  explicit csv_table(csv_reader& in) : file_(in.file()) { load(in); }

  /// Reads and parses a file. @throws trace_error if it is a directory or cannot be opened or
  /// parsed.
  [[nodiscard]] static csv_table read(const std::string& path) {
    csv_reader in(path);
    return csv_table(in);
  }

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] const std::vector<std::string>& header() const noexcept { return header_; }
  [[nodiscard]] std::size_t rows() const noexcept { return rows_.size(); }
  /// A data row (0-based). @throws std::out_of_range.
  [[nodiscard]] const csv_row& row(std::size_t r) const { return rows_.at(r); }

  /// Index of a named column. @throws trace_error (line 1) when the header lacks it.
  [[nodiscard]] std::size_t column(std::string_view name) const {
    return detail::column_index(header_, file_, name);
  }
  /// True when the header has the named column.
  [[nodiscard]] bool has_column(std::string_view name) const noexcept {
    return std::find(header_.begin(), header_.end(), name) != header_.end();
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
  void load(csv_reader& in) {
    header_ = in.header();
    csv_row row;
    while (in.next(row))
      rows_.push_back(std::move(row));
  }

  std::string file_;
  std::vector<std::string> header_;
  std::vector<csv_row> rows_;
};

} // namespace infercost::io
