// What answers at the address a new member is to have, asked before the
// cluster map names it (mq member add and replace). The usual case is that
// nothing listens there yet: the member's node starts after it is added,
// as with etcd's member add. What is refused is an address no host answers
// at (a typo, no route, a name that does not resolve), an address where a
// node of another cluster serves, and one where something that is not an mq
// node listens.
#pragma once

#include <string>

#include "cli/client/client.h"

namespace mq::cli {

// "" when the address may be added; else the refusal, one sentence naming
// the address. `options` are the command's client options (their timeout
// bounds the check); `cluster_id` is the cluster's, as its map says.
std::string check_new_member_address(const std::string& address, const ClientOptions& options,
                                     const std::string& cluster_id);

}  // namespace mq::cli
