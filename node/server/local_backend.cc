#include "node/server/local_backend.h"

#include "node/kv/command.h"
#include "node/kv/page_token.h"
#include "node/kv/shard_hash.h"

namespace mq::server {

LocalBackend::LocalBackend(std::string node_id, std::string address, uint32_t shard_count)
    : node_id_(std::move(node_id)),
      address_(std::move(address)),
      started_(std::chrono::steady_clock::now()),
      shards_(shard_count) {}

void LocalBackend::fill_header(uint32_t shard, v1::ResponseHeader* h) const {
  h->set_shard(shard);
  h->set_node(node_id_);
  h->set_leader(node_id_);
  h->set_leader_address(address_);
  h->set_term(0);
  h->set_index(shards_[shard].applied_index());
}

void LocalBackend::set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) {
  const uint32_t shard = kv::shard_of(req.user(), shards_.size());
  const std::string command =
      kv::encode_command({kv::Op::kSet, req.user(), req.key(), req.value()});
  {
    std::lock_guard lock(mutex_);
    auto& sm = shards_[shard];
    sm.apply(sm.applied_index() + 1, command);
    fill_header(shard, resp->mutable_header());
  }
  done(grpc::Status::OK);
}

void LocalBackend::get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) {
  const uint32_t shard = kv::shard_of(req.user(), shards_.size());
  {
    std::lock_guard lock(mutex_);
    if (auto v = shards_[shard].get(req.user(), req.key())) {
      resp->set_found(true);
      resp->set_value(std::move(*v));
    }
    fill_header(shard, resp->mutable_header());
  }
  done(grpc::Status::OK);
}

void LocalBackend::del(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) {
  const uint32_t shard = kv::shard_of(req.user(), shards_.size());
  const std::string command = kv::encode_command({kv::Op::kDelete, req.user(), req.key(), {}});
  {
    std::lock_guard lock(mutex_);
    auto& sm = shards_[shard];
    resp->set_deleted(sm.apply(sm.applied_index() + 1, command).existed);
    fill_header(shard, resp->mutable_header());
  }
  done(grpc::Status::OK);
}

void LocalBackend::list(const v1::ListRequest& req, const kv::Glob& glob,
                        const std::string& after, uint32_t limit, v1::ListResponse* resp,
                        Done done) {
  const uint32_t shard = kv::shard_of(req.user(), shards_.size());
  {
    std::lock_guard lock(mutex_);
    auto page = shards_[shard].list(req.user(), glob, after, limit);
    for (auto& k : page.keys) resp->add_keys(std::move(k));
    // The token names the last key returned: the next page starts after it,
    // so pages stay correct while keys are added or removed between calls.
    if (page.more) {
      resp->set_next_page_token(kv::encode_page_token(resp->keys(resp->keys_size() - 1)));
    }
    fill_header(shard, resp->mutable_header());
  }
  done(grpc::Status::OK);
}

void LocalBackend::status(v1::StatusResponse* resp) {
  std::lock_guard lock(mutex_);
  resp->set_node(node_id_);
  resp->set_shard_count(shards_.size());
  resp->set_replication(1);
  resp->set_uptime_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started_)
                          .count());
  auto* n = resp->add_nodes();
  n->set_id(node_id_);
  n->set_address(address_);
  n->set_reachable(true);
  for (uint32_t s = 0; s < shards_.size(); ++s) {
    auto* sh = resp->add_shards();
    sh->set_id(s);
    sh->set_leader(node_id_);
    sh->set_role("leader");
    sh->set_commit(shards_[s].applied_index());
    sh->set_applied(shards_[s].applied_index());
    sh->set_keys(shards_[s].key_count());
    auto* r = sh->add_replicas();
    r->set_node(node_id_);
    r->set_role("leader");
    r->set_match(shards_[s].applied_index());
  }
}

}  // namespace mq::server
