// A group's id in the data dir. A node that hosted a shard, was removed from
// its group and is added again starts an empty replica: it must not share
// an id with the records of the old one, which recovery would mix in. So
// the id is the slot (a shard, or the metadata group after them) plus a
// count of the replicas of that slot this node had before.
#pragma once

#include <cstdint>

namespace mq::server {

constexpr uint32_t kGroupSlotSpan = 2048;  // above the largest slot (1024 shards + 1)

constexpr uint32_t slot_of_group(uint32_t storage_id) { return storage_id % kGroupSlotSpan; }
constexpr uint32_t incarnation_of_group(uint32_t storage_id) { return storage_id / kGroupSlotSpan; }
constexpr uint32_t group_storage_id(uint32_t slot, uint32_t incarnation) {
  return slot + incarnation * kGroupSlotSpan;
}

}  // namespace mq::server
