#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "infercost/kvcache/prefix.hpp"

using namespace infercost::kvcache;

TEST_CASE("prefix block ids are equal exactly for equal prefixes", "[kvcache][prefix]") {
  std::vector<std::int32_t> a(4 * 16), b;
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::int32_t>(i * 7 + 1);
  b = a;
  b[2 * 16 + 3] = -5; // differs in block 2
  const auto ia = prefix_block_ids(a, 16), ib = prefix_block_ids(b, 16);
  REQUIRE(ia.size() == 4);
  REQUIRE(ib.size() == 4);
  CHECK(ia[0] == ib[0]);
  CHECK(ia[1] == ib[1]);
  CHECK(ia[2] != ib[2]);
  CHECK(ia[3] != ib[3]); // same tokens in block 3, different parent
  CHECK(ia[3] != ia[2]);
}

TEST_CASE("the same block of tokens gets different ids after different prefixes",
          "[kvcache][prefix]") {
  const std::vector<std::int32_t> block(8, 42);
  CHECK(chain_block_id(1, block) != chain_block_id(2, block));
  CHECK(chain_block_id(1, block) == chain_block_id(1, block));
}

TEST_CASE("a partial last block is named only on request", "[kvcache][prefix]") {
  const std::vector<std::int32_t> t(2 * 512 + 100, 3);
  CHECK(prefix_block_ids(t, 512).size() == 2);
  // Mooncake names ceil(input / 512) blocks.
  CHECK(prefix_block_ids(t, 512, true).size() == 3);
  CHECK_THROWS_WITH(prefix_block_ids(t, 0),
                    "kvcache::prefix_block_ids: block_tokens (0) must be > 0");
}
