#!/usr/bin/env bash
# Checks the deployment kit in examples/deploy/ without deploying it: no
# server is started, nothing listens, nothing leaves the machine.
#
#   tests/deploy/check_deploy_kit.sh SOURCE_DIR MQ_BINARY
#
# - kubernetes/*.yaml: every document parses (PyYAML) and has apiVersion,
#   kind and metadata.name; the Services, PodDisruptionBudget and
#   StatefulSet have what the README promises (probes on /readyz and /livez,
#   which the node serves, security context, resources, volumes);
# - every long flag in the StatefulSet's args and every key of
#   systemd/node.toml is in `MQ_BINARY node --help`;
# - the node accepts node.toml and the StatefulSet's flags: run with TLS
#   files that do not exist, it gets past flag validation and stops at the
#   first TLS file (exit 2), before it binds anything;
# - the StatefulSet's init script, run against a fake getent: the peer
#   lists of the three pods agree and the node accepts each, a restart at
#   the same IP reuses the flags, one at another IP is refused, and a pod
#   joining an existing cluster gets a --join the node accepts;
# - auth.example.json: JSON, every token_sha256 is 64 lower-case hex and is
#   the hash of the example token the README names, no certificate name is
#   used twice; and the node loads it (a run that stops, exit 5, at a data
#   dir that cannot be created, after the auth file is read), while a broken
#   copy is refused (exit 2);
# - image/build.sh: bash -n, and shellcheck when installed (it is not run:
#   it needs buildah);
# - systemd/mq.service: the directives of the hardening list are there, and
#   `systemd-analyze verify` accepts a copy whose ExecStart is MQ_BINARY,
#   when systemd-analyze exists and works here (else skipped, with why).
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 SOURCE_DIR MQ_BINARY" >&2
  exit 2
fi
src="$(cd "$1" && pwd)"
mq="$2"
case "$mq" in /*) ;; *) mq="$(pwd)/$mq" ;; esac
kit="$src/examples/deploy"
if [ ! -x "$mq" ]; then
  echo "check_deploy_kit: $mq is not an executable" >&2
  exit 2
fi
if [ ! -d "$kit" ]; then
  echo "check_deploy_kit: no $kit" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
skip() { echo "skipped: $*"; }

# A path whose parent is a regular file: no data dir can be created there,
# so a node given it stops (exit 5) before it starts anything, even as root.
touch "$tmp/not-a-dir"
no_data_dir="$tmp/not-a-dir/data"
# TLS files that do not exist: a node given them stops at the first (exit 2).
missing_tls="$tmp/missing-tls"

# ---- python3 with PyYAML ----------------------------------------------------
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import yaml" >/dev/null 2>&1; then
    python="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$python" ]; then
  echo "check_deploy_kit: needs python3 with PyYAML to parse the Kubernetes YAML (Debian: apt-get install python3-yaml)" >&2
  exit 1
fi

# ---- the node's flags ---------------------------------------------------------
"$mq" node --help >"$tmp/help.txt"
grep -o -- '--[a-z][a-z0-9-]*' "$tmp/help.txt" | sort -u >"$tmp/flags.txt"
if ! grep -qx -- '--listen' "$tmp/flags.txt"; then
  fail "'$mq node --help' lists no --listen: cannot check flags"
fi
has_flag() { grep -qx -- "$1" "$tmp/flags.txt"; }

# ---- Kubernetes YAML ----------------------------------------------------------
shopt -s nullglob
yamls=("$kit"/kubernetes/*.yaml "$kit"/kubernetes/*.yml)
shopt -u nullglob
if [ "${#yamls[@]}" -eq 0 ]; then
  fail "no YAML in $kit/kubernetes"
fi
# Writes: args.txt (the StatefulSet's mq args, one a line), init.sh (the
# init script of ConfigMap mq-init); prints one line per problem.
if ! "$python" - "$tmp" "${yamls[@]}" >"$tmp/yaml-problems.txt" 2>&1 <<'PYTHON'
import sys, yaml

out = sys.argv[1]
problems = []
docs = []
for path in sys.argv[2:]:
    try:
        with open(path) as f:
            loaded = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        problems.append(f"{path}: does not parse: {e}")
        continue
    for i, d in enumerate(loaded):
        where = f"{path} document {i + 1}"
        if not isinstance(d, dict):
            problems.append(f"{where}: not a mapping")
            continue
        for key in ("apiVersion", "kind"):
            if not d.get(key):
                problems.append(f"{where}: no {key}")
        if not (d.get("metadata") or {}).get("name"):
            problems.append(f"{where}: no metadata.name")
        docs.append(d)
    print(f"parsed {path}: {len(loaded)} documents: " +
          ", ".join(f"{d.get('kind')}/{(d.get('metadata') or {}).get('name')}" for d in loaded
                    if isinstance(d, dict)), file=sys.stderr)

def of_kind(kind):
    return [d for d in docs if d.get("kind") == kind]

def need(cond, what):
    if not cond:
        problems.append(what)

services = of_kind("Service")
headless = [s for s in services if s.get("spec", {}).get("clusterIP") == "None"]
need(len(headless) == 1, "one headless Service (clusterIP: None)")
for s in headless:
    spec = s["spec"]
    need(spec.get("publishNotReadyAddresses") is True, "headless Service: publishNotReadyAddresses: true")
    ports = {p.get("name"): p.get("port") for p in spec.get("ports", [])}
    need(ports.get("grpc") == 7001 and ports.get("http") == 8001, "headless Service: ports grpc 7001 and http 8001")
clients = [s for s in services if s.get("spec", {}).get("clusterIP") != "None"]
need(len(clients) >= 1, "a client Service")
pdbs = of_kind("PodDisruptionBudget")
need(len(pdbs) == 1 and pdbs[0].get("spec", {}).get("maxUnavailable") == 1,
     "a PodDisruptionBudget with maxUnavailable: 1")

sets = of_kind("StatefulSet")
need(len(sets) == 1, "one StatefulSet")
if sets:
    ss = sets[0]
    spec = ss.get("spec", {})
    need(spec.get("replicas") == 3, "StatefulSet: replicas: 3")
    need(spec.get("podManagementPolicy") == "Parallel", "StatefulSet: podManagementPolicy: Parallel")
    need(spec.get("serviceName") in [h["metadata"]["name"] for h in headless],
         "StatefulSet: serviceName is the headless Service")
    claims = spec.get("volumeClaimTemplates") or []
    need(len(claims) == 1, "StatefulSet: one volumeClaimTemplate")
    pod = spec.get("template", {}).get("spec", {})
    psc = pod.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True, "pod securityContext: runAsNonRoot: true")
    containers = [c for c in pod.get("containers", []) if c.get("name") == "mq"]
    need(len(containers) == 1, "StatefulSet: a container named mq")
    for c in containers + pod.get("initContainers", []):
        sc = c.get("securityContext", {})
        name = c.get("name")
        need(sc.get("readOnlyRootFilesystem") is True, f"container {name}: readOnlyRootFilesystem: true")
        need(sc.get("allowPrivilegeEscalation") is False, f"container {name}: allowPrivilegeEscalation: false")
        need(sc.get("capabilities", {}).get("drop") == ["ALL"], f"container {name}: capabilities drop ALL")
        res = c.get("resources", {})
        need(res.get("requests") and res.get("limits"), f"container {name}: resources requests and limits")
    if containers:
        c = containers[0]
        args = [str(a) for a in c.get("args", [])]
        need(args[:1] == ["node"], "mq container: args start with node (the image's entrypoint is mq)")
        env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in c.get("env", [])}
        need(env.get("POD_NAME") == "metadata.name", "mq container: env POD_NAME from metadata.name")
        need(env.get("POD_IP") == "status.podIP", "mq container: env POD_IP from status.podIP")
        def arg_after(flag):
            return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None
        need(arg_after("--id") == "$(POD_NAME)", "mq container: --id $(POD_NAME)")
        need((arg_after("--listen") or "").startswith("$(POD_IP):"), "mq container: --listen $(POD_IP):PORT")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        http_port = (arg_after("--http-listen") or ":").rsplit(":", 1)[1]
        need(str(ports.get("http")) == http_port, "mq container: port http is the --http-listen port")
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
            get = c.get(probe, {}).get("httpGet", {})
            need(get.get("path") == path, f"mq container: {probe} httpGet {path}")
            need(get.get("port") in ("http", ports.get("http")), f"mq container: {probe} on the http port")
        mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts", [])}
        need(claims and mounts.get("/var/lib/mq") == claims[0]["metadata"]["name"],
             "mq container: the volumeClaimTemplate mounted at /var/lib/mq")
        volumes = {v.get("name"): v for v in pod.get("volumes", [])}
        need(mounts.get("/etc/mq/tls") in volumes and "secret" in volumes[mounts.get("/etc/mq/tls")],
             "mq container: a Secret mounted at /etc/mq/tls")
        with open(f"{out}/args.txt", "w") as f:
            f.write("\n".join(args) + "\n")

inits = [d for d in of_kind("ConfigMap") if d["metadata"]["name"] == "mq-init"]
need(len(inits) == 1 and "init.sh" in inits[0].get("data", {}), "ConfigMap mq-init with init.sh")
if inits and "init.sh" in inits[0].get("data", {}):
    with open(f"{out}/init.sh", "w") as f:
        f.write(inits[0]["data"]["init.sh"])
    need(inits[0]["data"].get("cluster-state") == "new", "ConfigMap mq-init: cluster-state new")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PYTHON
then
  while IFS= read -r line; do
    case "$line" in parsed*) echo "$line" ;; *) fail "kubernetes: $line" ;; esac
  done <"$tmp/yaml-problems.txt"
else
  cat "$tmp/yaml-problems.txt"
  ok "kubernetes YAML parses and has the documents and settings described"
fi

# ---- flags of the StatefulSet and keys of node.toml exist --------------------
if [ -f "$tmp/args.txt" ]; then
  while IFS= read -r arg; do
    case "$arg" in
      --*)
        flag="${arg%%=*}"
        if has_flag "$flag"; then ok "StatefulSet flag $flag is in mq node --help"; else fail "StatefulSet flag $flag is not in mq node --help"; fi
        ;;
    esac
  done <"$tmp/args.txt"
fi
toml="$kit/systemd/node.toml"
if [ ! -f "$toml" ]; then
  fail "no $toml"
else
  keys="$(sed -n 's/^[[:space:]]*\([a-z][a-z0-9-]*\)[[:space:]]*=.*/\1/p' "$toml")"
  if [ -z "$keys" ]; then fail "node.toml has no keys"; fi
  for key in $keys; do
    if has_flag "--$key"; then ok "node.toml key $key is --$key of mq node"; else fail "node.toml key $key is not a flag of mq node (--$key)"; fi
  done
  # The node reads the file and validates every flag (types, --peers
  # against --id and --listen, ports); the TLS files, which do not exist
  # here, are the first thing after that, so it stops there (exit 2).
  rc=0
  timeout 20 "$mq" node --config "$toml" --data-dir "$no_data_dir" \
    --cert-file "$missing_tls/n1.pem" --key-file "$missing_tls/n1-key.pem" \
    --trusted-ca-file "$missing_tls/ca.pem" --peer-cert-file "$missing_tls/n1.pem" \
    --peer-key-file "$missing_tls/n1-key.pem" --peer-trusted-ca-file "$missing_tls/ca.pem" \
    >"$tmp/toml.out" 2>&1 || rc=$?
  if [ "$rc" -eq 2 ] && grep -q -- "--cert-file $missing_tls/n1.pem: cannot read it" "$tmp/toml.out"; then
    ok "mq node accepts node.toml (it stops at the missing TLS file, after validating the flags)"
  else
    fail "mq node --config node.toml: exit $rc, expected 2 at the missing TLS file: $(cat "$tmp/toml.out")"
  fi
fi

# ---- the init script of the StatefulSet ---------------------------------------
# The node's flags for pod $1 at IP $2 with the config $3, as the
# StatefulSet gives them, with the data dir and TLS directory replaced.
node_args() {
  local name="$1" ip="$2" config="$3" arg next_is_config=0
  while IFS= read -r arg; do
    if [ "$next_is_config" = 1 ]; then arg="$config"; next_is_config=0; fi
    [ "$arg" = "--config" ] && next_is_config=1
    arg="${arg//\$(POD_NAME)/$name}"
    arg="${arg//\$(POD_IP)/$ip}"
    arg="${arg//\/etc\/mq\/tls/$missing_tls}"
    arg="${arg//\/var\/lib\/mq\/data/$no_data_dir}"
    printf '%s\n' "$arg"
  done <"$tmp/args.txt"
}
# Runs the node with the StatefulSet's flags; it must get past validation
# and stop at the first missing TLS file.
node_accepts() {
  local name="$1" ip="$2" config="$3" what="$4" rc=0
  local -a args=()
  mapfile -t args < <(node_args "$name" "$ip" "$config")
  timeout 20 "$mq" "${args[@]}" >"$tmp/node.out" 2>&1 || rc=$?
  if [ "$rc" -eq 2 ] && grep -q -- "$missing_tls/.*cannot read it" "$tmp/node.out"; then
    ok "mq node accepts the StatefulSet's flags with $what"
  else
    fail "mq node with the StatefulSet's flags and $what: exit $rc, expected 2 at the missing TLS file: $(cat "$tmp/node.out")"
  fi
}
if [ -f "$tmp/init.sh" ] && [ -f "$tmp/args.txt" ]; then
  if sh -n "$tmp/init.sh"; then ok "init.sh: sh -n"; else fail "init.sh: sh -n"; fi
  if command -v shellcheck >/dev/null 2>&1; then
    if shellcheck -s sh "$tmp/init.sh"; then ok "init.sh: shellcheck"; else fail "init.sh: shellcheck"; fi
  else
    skip "init.sh: shellcheck is not installed"
  fi
  # getent ahostsv4, as glibc prints it, for the pods' DNS names.
  mkdir -p "$tmp/bin"
  cat >"$tmp/bin/getent" <<'FAKE'
#!/bin/sh
[ "$1" = ahostsv4 ] || exit 2
case "$2" in
  mq-0.mq.test.svc.cluster.local) ip=127.0.0.11 ;;
  mq-1.mq.test.svc.cluster.local) ip=127.0.0.12 ;;
  mq-2.mq.test.svc.cluster.local) ip=127.0.0.13 ;;
  *) exit 2 ;;
esac
printf '%s       STREAM %s\n%s       DGRAM  \n' "$ip" "$2" "$ip"
FAKE
  chmod +x "$tmp/bin/getent"
  run_init() {  # pod, ip, cluster state, saved, out
    env PATH="$tmp/bin:$PATH" POD_NAME="$1" POD_IP="$2" NAMESPACE=test CLUSTER_STATE="$3" \
      SAVED="$4" OUT="$5" timeout 20 sh "$tmp/init.sh"
  }
  for i in 0 1 2; do
    mkdir -p "$tmp/pod$i/volume" "$tmp/pod$i/run"
    if run_init "mq-$i" "127.0.0.1$((i + 1))" new "$tmp/pod$i/volume/start.toml" "$tmp/pod$i/run/node.toml" \
      2>"$tmp/init$i.err"; then
      node_accepts "mq-$i" "127.0.0.1$((i + 1))" "$tmp/pod$i/run/node.toml" "init.sh's bootstrap flags for mq-$i"
    else
      fail "init.sh for mq-$i (new): $(cat "$tmp/init$i.err")"
    fi
  done
  peers0="$(grep '^peers' "$tmp/pod0/run/node.toml" || true)"
  expected='peers = "mq-0=127.0.0.11:7001,mq-1=127.0.0.12:7001,mq-2=127.0.0.13:7001"'
  if [ "$peers0" = "$expected" ] && [ "$(grep '^peers' "$tmp/pod1/run/node.toml")" = "$expected" ] &&
    [ "$(grep '^peers' "$tmp/pod2/run/node.toml")" = "$expected" ]; then
    ok "init.sh writes the same peer list on the three pods"
  else
    fail "init.sh's peer lists differ or are not '$expected': $(cat "$tmp"/pod*/run/node.toml)"
  fi
  # Restarted at the same IP: the flags of the first start.
  rm -f "$tmp/pod1/run/node.toml"
  if run_init mq-1 127.0.0.12 existing "$tmp/pod1/volume/start.toml" "$tmp/pod1/run/node.toml" 2>/dev/null &&
    cmp -s "$tmp/pod1/volume/start.toml" "$tmp/pod1/run/node.toml" && grep -q '^peers' "$tmp/pod1/run/node.toml"; then
    ok "init.sh: a pod restarted at the same IP starts with the flags of its first start"
  else
    fail "init.sh: a pod restarted at the same IP does not get the flags of its first start"
  fi
  # Recreated at another IP: refused, with the way out.
  rc=0
  run_init mq-1 127.0.0.99 new "$tmp/pod1/volume/start.toml" "$tmp/pod1/run/node.toml" 2>"$tmp/moved.err" || rc=$?
  if [ "$rc" -ne 0 ] && grep -q "first started at 127.0.0.12:7001" "$tmp/moved.err" &&
    grep -q "mq member remove mq-1" "$tmp/moved.err"; then
    ok "init.sh refuses a pod that came back at another IP, and says how to replace it"
  else
    fail "init.sh with a new IP: exit $rc: $(cat "$tmp/moved.err")"
  fi
  # An empty volume once the cluster exists: --join through the others.
  mkdir -p "$tmp/pod4/volume" "$tmp/pod4/run"
  if run_init mq-1 127.0.0.14 existing "$tmp/pod4/volume/start.toml" "$tmp/pod4/run/node.toml" 2>"$tmp/join.err"; then
    if grep -qx 'join = "127.0.0.11:7001,127.0.0.13:7001"' "$tmp/pod4/run/node.toml"; then
      ok "init.sh joins through the other pods when cluster-state is existing"
    else
      fail "init.sh (existing) wrote: $(cat "$tmp/pod4/run/node.toml")"
    fi
    node_accepts mq-1 127.0.0.14 "$tmp/pod4/run/node.toml" "init.sh's --join"
  else
    fail "init.sh for mq-1 (existing): $(cat "$tmp/join.err")"
  fi
fi

# ---- auth.example.json ------------------------------------------------------
auth="$kit/auth.example.json"
if [ ! -f "$auth" ]; then
  fail "no $auth"
else
  if "$python" - "$auth" >"$tmp/auth.txt" 2>&1 <<'PYTHON'
import json, re, sys
problems = []
try:
    with open(sys.argv[1]) as f:
        doc = json.load(f)
except ValueError as e:
    print(f"not JSON: {e}")
    sys.exit(1)
principals = doc.get("principals") if isinstance(doc, dict) else None
if not isinstance(principals, list) or not principals:
    print("no principals array")
    sys.exit(1)
names, certificates = set(), set()
for p in principals:
    name = p.get("name")
    if not name or name in names:
        problems.append(f"principal name {name!r} missing or used twice")
    names.add(name)
    if "token_sha256" in p:
        if not re.fullmatch(r"[0-9a-f]{64}", str(p["token_sha256"])):
            problems.append(f"{name}: token_sha256 is not 64 lower-case hex digits")
        else:
            print(f"token {name} {p['token_sha256']}")
    if "certificate" in p:
        if p["certificate"] in certificates:
            problems.append(f"{name}: certificate name {p['certificate']!r} used twice")
        certificates.add(p["certificate"])
    if "token_sha256" not in p and "certificate" not in p:
        problems.append(f"{name}: neither token_sha256 nor certificate")
for cert in ("n1", "n2", "n3"):
    if cert not in certificates:
        problems.append(f"no principal for node certificate {cert}")
for p in problems:
    print(f"problem {p}")
sys.exit(1 if problems else 0)
PYTHON
  then
    ok "auth.example.json: JSON, hashes are 64 lower-case hex, certificate names unique"
  else
    fail "auth.example.json: $(grep -v '^token ' "$tmp/auth.txt")"
  fi
  # The README's example tokens are example-<principal>-token.
  while read -r _ name hash; do
    if [ "$("$mq" auth hash-token "example-$name-token")" = "$hash" ]; then
      ok "auth.example.json: $name's hash is that of example-$name-token"
    else
      fail "auth.example.json: $name's hash is not mq auth hash-token example-$name-token"
    fi
  done < <(grep '^token ' "$tmp/auth.txt")
  # The node reads the auth file after the flags and the TLS files and
  # before the data dir: with a data dir that cannot be created it stops
  # there (exit 5) once the file loaded, or at the file (exit 2).
  auth_run() {  # file; prints the exit code, output in $tmp/auth-run.out
    local file="$1" rc port
    for _ in 1 2 3 4 5; do
      port=$((20000 + RANDOM % 40000))
      rc=0
      timeout 20 "$mq" node --id authcheck --listen "127.0.0.1:$port" --data-dir "$no_data_dir" \
        --auth-file "$file" >"$tmp/auth-run.out" 2>&1 || rc=$?
      # A port in use answers before the data dir: try another.
      grep -q "cannot listen" "$tmp/auth-run.out" || break
    done
    echo "$rc"
  }
  rc="$(auth_run "$auth")"
  if [ "$rc" -eq 5 ] && grep -q "data dir $no_data_dir" "$tmp/auth-run.out"; then
    ok "mq node loads auth.example.json (it stops after it, at the data dir)"
  else
    fail "mq node --auth-file auth.example.json: exit $rc, expected 5 at the data dir: $(cat "$tmp/auth-run.out")"
  fi
  sed '0,/"token_sha256": "[0-9a-f]*"/s//"token_sha256": "ABC"/' "$auth" >"$tmp/broken-auth.json"
  rc="$(auth_run "$tmp/broken-auth.json")"
  if [ "$rc" -eq 2 ] && grep -q -- "--auth-file" "$tmp/auth-run.out"; then
    ok "mq node refuses a broken copy of auth.example.json (so the check above means something)"
  else
    fail "mq node with a broken auth file: exit $rc, expected 2: $(cat "$tmp/auth-run.out")"
  fi
fi

# ---- image/build.sh --------------------------------------------------------------
build="$kit/image/build.sh"
if [ ! -f "$build" ]; then
  fail "no $build"
else
  if bash -n "$build"; then ok "image/build.sh: bash -n"; else fail "image/build.sh: bash -n"; fi
  if command -v shellcheck >/dev/null 2>&1; then
    if shellcheck "$build"; then ok "image/build.sh: shellcheck"; else fail "image/build.sh: shellcheck"; fi
  else
    skip "image/build.sh: shellcheck is not installed"
  fi
  for needed in 'set -euo pipefail' 'buildah from scratch' 'exit 2' 'ldd' \
    "--entrypoint '[\"/usr/local/bin/mq\"]'" "--cmd '[\"node\",\"--help\"]'" '--port 7001' '--port 8001' '--user'; do
    if grep -qF -- "$needed" "$build"; then :; else fail "image/build.sh lacks: $needed"; fi
  done
  skip "image/build.sh is not run: it needs buildah"
fi

# ---- systemd unit -----------------------------------------------------------------
unit="$kit/systemd/mq.service"
if [ ! -f "$unit" ]; then
  fail "no $unit"
else
  missing_before=$failures
  # shellcheck disable=SC2016 # $MAINPID is the unit's, not the shell's
  for line in 'User=mq' 'Group=mq' 'ExecStart=/usr/local/bin/mq node --config /etc/mq/node.toml' \
    'Restart=on-failure' 'LimitNOFILE=65536' 'KillSignal=SIGTERM' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'StateDirectory=mq' 'ConfigurationDirectory=mq' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
    'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'ProtectKernelTunables=yes' \
    'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' 'ProtectClock=yes' \
    'ProtectHostname=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'RestrictNamespaces=yes' \
    'RestrictRealtime=yes' 'RestrictSUIDSGID=yes' 'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' \
    'SystemCallArchitectures=native' 'SystemCallFilter=@system-service' 'CapabilityBoundingSet=' \
    'AmbientCapabilities=' 'ReadWritePaths=/var/lib/mq' 'UMask=0077'; do
    if grep -qxF -- "$line" "$unit"; then :; else fail "mq.service lacks the line: $line"; fi
  done
  for key in RestartSec TimeoutStopSec; do
    grep -q "^$key=[0-9]" "$unit" || fail "mq.service lacks $key"
  done
  if [ "$failures" -eq "$missing_before" ]; then ok "mq.service has the directives of the hardening list"; fi
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    skip "systemd-analyze verify: systemd-analyze is not installed"
  else
    # /usr/local/bin/mq does not exist here and verify checks ExecStart's
    # executable: verify a copy that runs the binary under test.
    mkdir -p "$tmp/unit"
    printf '[Service]\nExecStart=%s version\n' "$mq" >"$tmp/unit/mq-known-good.service"
    if ! systemd-analyze verify "$tmp/unit/mq-known-good.service" >"$tmp/verify.out" 2>&1; then
      skip "systemd-analyze verify does not work here (a minimal unit fails too): $(head -n 3 "$tmp/verify.out")"
    else
      sed "s#^ExecStart=/usr/local/bin/mq #ExecStart=$mq #" "$unit" >"$tmp/unit/mq.service"
      rc=0
      systemd-analyze verify "$tmp/unit/mq.service" >"$tmp/verify.out" 2>&1 || rc=$?
      # Unknown keys are only warnings (exit 0): any line about the unit fails.
      if [ "$rc" -eq 0 ] && ! grep -q "mq.service" "$tmp/verify.out"; then
        ok "systemd-analyze verify accepts mq.service (ExecStart pointed at $mq)"
      else
        fail "systemd-analyze verify mq.service: exit $rc: $(cat "$tmp/verify.out")"
      fi
      if systemd-analyze security --offline=yes "$tmp/unit/mq.service" >"$tmp/security.out" 2>&1; then
        echo "systemd-analyze security --offline=yes: $(grep -o 'Overall exposure level.*' "$tmp/security.out" || true)"
      else
        skip "systemd-analyze security --offline=yes is not supported here"
      fi
    fi
  fi
fi

# ---- README ---------------------------------------------------------------------
readme="$kit/README.md"
if [ ! -f "$readme" ]; then
  fail "no $readme"
else
  for f in systemd/mq.service systemd/node.toml auth.example.json kubernetes/mq.yaml image/build.sh; do
    grep -qF "$f" "$readme" || fail "README.md does not mention $f"
  done
  for token in example-app-token example-reporting-token example-ops-token; do
    grep -qF "$token" "$readme" || fail "README.md does not name the example token $token"
  done
fi

if [ "$failures" -ne 0 ]; then
  echo "check_deploy_kit: $failures failures" >&2
  exit 1
fi
echo "check_deploy_kit: all checks passed"
