// The REPL driven through a pipe keeps its contract for \cluster lines too:
// exactly one line on stdout per command, a summary in plain mode and one
// JSON object with -o json, whatever the verb would print from a shell.
#include <catch2/catch.hpp>

#include "cluster_fixture.h"
#include "tests/process/text_lines.h"

using mq::test::lines_of;
using mq::test::mq_with_stdin;
using mq::test::TestCluster;
using nlohmann::json;

TEST_CASE("piped, each \\cluster line prints exactly one line", "[cluster][process][repl]") {
  TestCluster cluster(3, 8);
  REQUIRE(cluster.cluster("up", {"--shards", "8", "--base-port", std::to_string(cluster.base_port())})
              .exit_code == 0);
  const std::string dir = " --dir " + cluster.dir();
  const std::string endpoint = "127.0.0.1:" + std::to_string(cluster.base_port());
  const std::string input = "\\cluster status" + dir + "\n" +  // a table from a shell
                            "\\cluster kill n9" + dir + "\n" +  // an error
                            "\\cluster watch" + dir + "\n" +    // a live view
                            "\\cluster pause n2" + dir + "\n" +
                            "\\cluster resume n2" + dir + "\n" +
                            "get u k\n";

  const auto plain = mq_with_stdin({"repl", "--endpoints", endpoint}, input);
  INFO("stdout:\n" << plain.out << "\nstderr:\n" << plain.err);
  REQUIRE(plain.exit_code == 0);
  const auto p = lines_of(plain.out);
  REQUIRE(p.size() == 6);
  CHECK(p[0].rfind("cluster ", 0) == 0);
  CHECK(p[0].find("3/3 nodes up, 8/8 shards with a leader") != std::string::npos);
  CHECK(p[1].rfind("(error) ", 0) == 0);
  CHECK(p[1].find("n9") != std::string::npos);
  CHECK(p[2].rfind("(error) ", 0) == 0);
  CHECK(p[2].find("live view") != std::string::npos);
  CHECK(p[3].rfind("(error)", 0) != 0);
  CHECK(p[4].rfind("(error)", 0) != 0);
  CHECK(p[5] == "(nil)");

  const auto as_json = mq_with_stdin({"repl", "--endpoints", endpoint, "-o", "json"}, input);
  INFO("stdout:\n" << as_json.out << "\nstderr:\n" << as_json.err);
  REQUIRE(as_json.exit_code == 0);
  const auto j = lines_of(as_json.out);
  REQUIRE(j.size() == 6);
  std::vector<json> docs;
  for (const auto& line : j) {
    INFO("line: " << line);
    auto doc = json::parse(line, nullptr, false);
    REQUIRE_FALSE(doc.is_discarded());
    REQUIRE(doc.is_object());
    docs.push_back(doc);
  }
  CHECK(docs[0]["shards"].size() == 8);
  CHECK(docs[1].contains("error"));
  CHECK(docs[2].contains("error"));
  CHECK_FALSE(docs[3].contains("error"));
  CHECK_FALSE(docs[4].contains("error"));
}
