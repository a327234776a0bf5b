// TLS with real processes: `mq cluster up --tls` runs a cluster whose gRPC,
// HTTP and Raft traffic is TLS only, with client certificates required; a
// client with the cluster's files is served, and every client that gets TLS
// wrong (plaintext, no client certificate, a foreign CA) is told in one line
// what to change. A node whose TLS files are wrong does not start.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "playground/local_ca.h"
#include "cluster_fixture.h"

using Catch::Matchers::Contains;
using namespace mq::test;
namespace fs = std::filesystem;

namespace {

size_t lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// What a plaintext HTTP request to the port gets back before the node
// closes (bounded by 2 s).
std::string plaintext_http_answer(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string req = "GET /v1/users/u1/keys/k1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

}  // namespace

TEST_CASE("mq cluster up --tls serves TLS only, and a client that gets TLS wrong is told what to change",
          "[cluster][tls]") {
  TestCluster c(3, 4);
  const Run up = c.cluster("up", {"--tls", "--shards", "4", "--base-port", std::to_string(c.base_port())});
  INFO("stderr: " << up.err);
  REQUIRE(up.exit_code == 0);
  const std::string tls = c.dir() + "/tls";
  for (const char* f : {"ca.pem", "n1.pem", "n2.pem", "n3.pem", "client.pem"}) CHECK(fs::exists(tls + "/" + f));
  // Keys are the owner's alone.
  struct stat st{};
  REQUIRE(::stat((tls + "/n1-key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  const std::string endpoint = "127.0.0.1:" + std::to_string(c.base_port());
  const std::vector<std::string> creds = {"--endpoints", endpoint, "--cacert", tls + "/ca.pem",
                                          "--cert", tls + "/client.pem", "--key", tls + "/client-key.pem"};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  // Every shard's leader is reached through the first node's hints: the
  // nodes' Raft traffic (mutual TLS) works, or no shard would be led.
  for (int u = 0; u < 8; ++u) {
    const Run set = mq::test::mq(with({"set", "user" + std::to_string(u), "k", "v" + std::to_string(u)}, creds));
    INFO("stderr: " << set.err);
    REQUIRE(set.exit_code == 0);
  }
  const Run get = mq::test::mq(with({"get", "user5", "k"}, creds));
  CHECK(get.exit_code == 0);
  CHECK(get.out == "v5");
  // The launcher's own calls use the cluster's client certificate.
  const Run status = c.cluster("status");
  INFO("status: " << status.out << status.err);
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Contains("healthy"));

  struct Wrong {
    std::vector<std::string> args;
    std::string message;
  };
  char other_tmpl[] = "/tmp/mq-other-ca-XXXXXX";
  const std::string other = ::mkdtemp(other_tmpl);
  std::string error;
  REQUIRE(mq::playground::ensure_local_ca(other, &error));
  REQUIRE(mq::playground::issue_certificate(other, {"client", {}, {}}, &error));
  const std::vector<Wrong> wrongs = {
      {{"--endpoints", endpoint},
       endpoint + " serves TLS: pass --cacert"},
      {{"--endpoints", endpoint, "--cacert", tls + "/ca.pem"},
       endpoint + " requires a client certificate: pass --cert and --key"},
      {{"--endpoints", endpoint, "--cacert", other + "/ca.pem", "--cert", other + "/client.pem", "--key",
        other + "/client-key.pem"},
       "the certificate of " + endpoint + " is not accepted"},
      {{"--endpoints", endpoint, "--cacert", tls + "/ca.pem", "--cert", tls + "/client.pem", "--key",
        tls + "/n1-key.pem"},
       "--key " + tls + "/n1-key.pem is not the key of the certificate in --cert"},
  };
  for (const auto& w : wrongs) {
    const Run r = mq::test::mq(with({"get", "user5", "k", "--timeout", "3s"}, w.args));
    INFO("args: " << w.args.size() << " stderr: " << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.out.empty());
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(w.message));
  }
  fs::remove_all(other);

  // The HTTP listener answers TLS only: a plaintext request gets no HTTP.
  const std::string answer = plaintext_http_answer(static_cast<uint16_t>(c.base_port() + 1000));
  CHECK(answer.rfind("HTTP/", 0) != 0);
}

TEST_CASE("a node whose TLS files are wrong says which in one line and does not start", "[cluster][tls]") {
  char tmpl[] = "/tmp/mq-node-tls-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  std::string error;
  REQUIRE(mq::playground::ensure_local_ca(dir, &error));
  REQUIRE(mq::playground::issue_certificate(dir, {"n1", {"n1"}, {"127.0.0.1"}}, &error));
  REQUIRE(mq::playground::issue_certificate(dir, {"old", {"n1"}, {"127.0.0.1"}, 5, -10}, &error));
  const uint16_t port = free_port_run(1);
  const std::vector<std::string> base = {"node", "--id", "n1", "--listen", "127.0.0.1:" + std::to_string(port),
                                         "--data-dir", dir + "/data"};
  struct Bad {
    std::vector<std::string> flags;
    std::string message;
  };
  const std::vector<Bad> bads = {
      {{"--cert-file", dir + "/old.pem", "--key-file", dir + "/old-key.pem", "--trusted-ca-file", dir + "/ca.pem"},
       "--cert-file " + dir + "/old.pem: the certificate expired on"},
      {{"--cert-file", dir + "/n1.pem", "--key-file", dir + "/old-key.pem", "--trusted-ca-file", dir + "/ca.pem"},
       "is not the key of the certificate in --cert-file"},
      {{"--cert-file", dir + "/n1.pem", "--key-file", dir + "/n1-key.pem"}, "--cert-file needs --trusted-ca-file"},
      {{"--cert-file", dir + "/n1.pem"}, "--cert-file and --key-file go together"},
      {{"--client-cert-auth"}, "--client-cert-auth needs --trusted-ca-file"},
      {{"--peer-cert-file", dir + "/n1.pem", "--peer-key-file", dir + "/n1-key.pem"},
       "--peer-cert-file, --peer-key-file and --peer-trusted-ca-file go together"},
      {{"--peer-cert-file", dir + "/n1.pem", "--peer-key-file", dir + "/n1-key.pem", "--peer-trusted-ca-file",
        dir + "/missing.pem"},
       "--peer-trusted-ca-file " + dir + "/missing.pem: cannot read it"},
  };
  for (const auto& b : bads) {
    std::vector<std::string> args = base;
    args.insert(args.end(), b.flags.begin(), b.flags.end());
    const Run r = mq::test::mq(args, 10'000);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(b.message));
    CHECK_FALSE(fs::exists(dir + "/data"));
  }
  fs::remove_all(dir);
}
