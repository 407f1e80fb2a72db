#include <catch2/catch.hpp>

#include <string>

#include "infercost/io/csv.hpp"

using infercost::trace_error;
using infercost::io::csv_table;

TEST_CASE("csv_table reads a header, rows, quotes and CRLF line ends", "[io][csv]") {
  const csv_table t("a,b,c\r\n1,\"x,\"\"y\"\"\",3.5\r\n\r\n4,z,-1e3\n", "mem.csv");
  REQUIRE(t.rows() == 2);
  CHECK(t.header() == std::vector<std::string>{"a", "b", "c"});
  CHECK(t.text(0, 1) == "x,\"y\"");
  CHECK(t.number(0, 2) == 3.5);
  CHECK(t.number(1, 2) == -1000.0);
  CHECK(t.column("c") == 2);
  CHECK(t.has_column("b"));
  CHECK_FALSE(t.has_column("d"));
  CHECK(t.line_of(1) == 4);
}

TEST_CASE("csv_table errors name file, line and column", "[io][csv]") {
  const csv_table t("x,y\n1,2\n3,abc\n", "t.csv");
  CHECK_THROWS_WITH(t.number(1, 1), "t.csv:3:3: column 'y': 'abc' is not a finite number");
  CHECK_THROWS_WITH(t.column("z"), "t.csv:1:0: missing column 'z'");
  CHECK_THROWS_WITH(csv_table("x,y\n1,2,3\n", "f.csv"),
                    "f.csv:2:1: row has 3 fields, header has 2");
  CHECK_THROWS_WITH(csv_table("x\n\"open\n", "q.csv"), "q.csv:2:1: unterminated quoted field");
  CHECK_THROWS_WITH(csv_table("", "e.csv"), "e.csv:1:1: empty file: no header row");
  CHECK_THROWS_AS(csv_table::read("/nonexistent/file.csv"), trace_error);
  const csv_table inf("v\ninf\nnan\n", "n.csv");
  CHECK_THROWS_AS(inf.number(0, 0), trace_error);
  CHECK_THROWS_AS(inf.number(1, 0), trace_error);
}

TEST_CASE("csv_reader streams rows and skips a UTF-8 byte order mark", "[io][csv]") {
  infercost::io::csv_reader in("\xEF\xBB\xBFTIMESTAMP,b\n1,\"two\nlines\"\n\n3,4\n", "s.csv");
  CHECK(in.header() == std::vector<std::string>{"TIMESTAMP", "b"});
  CHECK(in.column("TIMESTAMP") == 0);
  infercost::io::csv_row row;
  REQUIRE(in.next(row));
  CHECK(row.fields == std::vector<std::string>{"1", "two\nlines"});
  CHECK(row.line == 2);
  REQUIRE(in.next(row));
  CHECK(row.fields == std::vector<std::string>{"3", "4"});
  CHECK(row.line == 5);
  CHECK(row.columns == std::vector<std::size_t>{1, 3});
  CHECK_FALSE(in.next(row));
  // A mark anywhere but the start is data.
  CHECK(csv_table("a\n\xEF\xBB\xBFx\n", "m.csv").text(0, 0) == "\xEF\xBB\xBFx");
}

TEST_CASE("csv_table says a directory is a directory", "[io][csv]") {
  CHECK_THROWS_WITH(csv_table::read("/tmp"), "/tmp:0:0: is a directory, not a file");
  CHECK_THROWS_WITH(infercost::io::read_file("/tmp"), "/tmp:0:0: is a directory, not a file");
}
