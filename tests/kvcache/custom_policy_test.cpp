// A fourth eviction policy, written outside the library against the public interface alone
// (kvcache::eviction_policy, block_table, block_handle): the cache takes it without any change.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <string_view>
#include <vector>

#include "data.hpp"
#include "infercost/device/catalog.hpp"
#include "infercost/io/mooncake_trace.hpp"
#include "infercost/kvcache/replay.hpp"
#include "infercost/kvcache/tiered_cache.hpp"
#include "infercost/model/presets.hpp"

namespace custom_policy_test {

using infercost::kvcache::block_handle;

/// First in, first out: a block's place in the queue is where it entered the tier; hits do not
/// move it.
class fifo {
public:
  static constexpr std::string_view name = "fifo";
  struct node {
    std::list<block_handle>::iterator place;
  };
  using table = infercost::kvcache::block_table<node>;

  explicit fifo(std::size_t capacity) { (void)capacity; }

  void insert(table blocks, block_handle h) {
    blocks.node(h).place = queue_.insert(queue_.end(), h);
  }
  void touch(table, block_handle) {}
  void erase(table blocks, block_handle h) { queue_.erase(blocks.node(h).place); }
  block_handle evict(table) {
    const block_handle h = queue_.front();
    queue_.pop_front();
    return h;
  }
  [[nodiscard]] std::size_t size() const { return queue_.size(); }

private:
  std::list<block_handle> queue_; ///< oldest first
};

static_assert(infercost::kvcache::eviction_policy<fifo>,
              "a policy written outside the library satisfies the concept");

} // namespace custom_policy_test

using namespace infercost;
using namespace infercost::kvcache;
using custom_policy_test::fifo;

TEST_CASE("a fifo policy defined outside the library evicts in arrival order in a tiered cache",
          "[kvcache][custom_policy]") {
  // One tier of 3 blocks; each request is one block, looked up, then inserted. By hand, with the
  // queue oldest first: a b c -> [a b c]; a hits (no move); d evicts a -> [b c d]; a evicts b ->
  // [c d a]; b evicts c -> [d a b]; d hits; c evicts d -> [a b c]; a hits. LRU would have hit
  // the second a (steps 4 and 6) instead of the last (steps 4 and 10).
  const std::vector<block_id> requests{'a', 'b', 'c', 'a', 'd', 'a', 'b', 'd', 'c', 'a'};
  const std::vector<std::int64_t> expect{0, 0, 0, 1, 0, 0, 0, 1, 0, 1};
  auto hits_of = [&](auto policy_tag) {
    basic_tiered_cache<h100_sxm, decltype(policy_tag)> c(
        cache_config{.hbm_bytes = 3.0, .dram_bytes = 0, .ssd_bytes = 0, .block_bytes = 1.0});
    std::vector<std::int64_t> hits;
    for (const block_id b : requests) {
      const std::vector<block_id> one{b};
      hits.push_back(c.lookup(one).hits());
      c.insert(one);
      REQUIRE(c.check_invariants() == "");
    }
    return hits;
  };
  CHECK(hits_of(fifo(0)) == expect);
  CHECK(hits_of(lru(0)) == std::vector<std::int64_t>{0, 0, 0, 1, 0, 1, 0, 1, 0, 0});
}

TEST_CASE("a fifo policy defined outside the library keeps the cache's invariants over a real "
          "trace",
          "[kvcache][custom_policy]") {
  // The 2,000-request Mooncake sample through three small tiers, with the last 8 requests'
  // blocks pinned, so that blocks leave and re-enter tiers by demotion, promotion and pins.
  const std::vector<io::workload_request> trace =
      io::read_mooncake_workload(test::sample_file("mooncake_conversation_2000.jsonl")).requests;
  basic_tiered_cache<h800_sxm, fifo> c(
      cache_config{.hbm_bytes = 300, .dram_bytes = 600, .ssd_bytes = 1200, .block_bytes = 1.0});
  const replay_report r =
      replay(c, trace, {.model = model::presets::llama3_70b(), .running_requests = 8});
  CHECK(c.check_invariants() == "");
  CHECK(r.hits() > 0);
  CHECK(r.hits() + r.miss_blocks == r.input_blocks);
  const cache_stats& s = c.stats();
  CHECK(s.inserted_blocks == c.size() + s.dropped_blocks + s.unplaced_blocks);
  CHECK(s.dropped_blocks > 0);
  CHECK(s.promotions > 0);
  CHECK(c.used_blocks(tier::hbm) <= 300);
}
