#!/usr/bin/env bash
# Checks the deployment kit in examples/deploy/ without deploying it: no
# server is started, nothing listens, nothing leaves the machine.
#
#   tests/deploy/check_deploy_kit.sh SOURCE_DIR MQ_BINARY
#
# - kubernetes/*.yaml: every document parses (PyYAML) and has apiVersion,
#   kind and metadata.name; the Services, PodDisruptionBudget and
#   StatefulSet have what the README promises (probes on /readyz and /livez,
#   which the node serves, security context, resources, volumes, no init
#   container); the pods reach each other by name: --listen 0.0.0.0:PORT,
#   --advertise $(POD_NAME).SERVICE:PORT, and the start files of the
#   ConfigMap that --config picks by $(CLUSTER_STATE) name every replica
#   POD.SERVICE:PORT (--peers when new, --join when existing);
# - every long flag in the StatefulSet's args, every key of those start
#   files and every key of systemd/node.toml is in `MQ_BINARY node --help`;
# - the node accepts node.toml, and the StatefulSet's flags for each pod
#   with each cluster state ($(POD_NAME), $(NAMESPACE) and
#   $(CLUSTER_STATE) filled in): run with TLS files that do not exist, it
#   gets past flag validation and stops at the first TLS file (exit 2),
#   before it binds anything; the same flags without --advertise are
#   refused (exit 2, a wildcard --listen with peers), so the check bites;
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

# ---- python3 with PyYAML and tomllib -------------------------------------------
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import tomllib, yaml" >/dev/null 2>&1; then
    python="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$python" ]; then
  echo "check_deploy_kit: needs python3 (3.11 or later, for tomllib) with PyYAML to parse the Kubernetes YAML and the TOML in it (Debian: apt-get install python3-yaml)" >&2
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
# Writes: args.txt (the StatefulSet's mq args, one a line), cluster/*.toml
# (the start files of the ConfigMap that --config names), facts.txt (where
# that ConfigMap is mounted, the pods' names); prints one line per problem.
if ! "$python" - "$tmp" "${yamls[@]}" >"$tmp/yaml-problems.txt" 2>&1 <<'PYTHON'
import os, sys, tomllib, yaml

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
    need(not pod.get("initContainers"), "StatefulSet: no init container (the pods find each other by name)")
    service = spec.get("serviceName")
    replicas = spec.get("replicas") if isinstance(spec.get("replicas"), int) else 0
    pod_names = [f"{ss['metadata']['name']}-{i}" for i in range(replicas)]
    if containers:
        c = containers[0]
        args = [str(a) for a in c.get("args", [])]
        need(args[:1] == ["node"], "mq container: args start with node (the image's entrypoint is mq)")
        env = {e["name"]: e.get("valueFrom", {}) for e in c.get("env", [])}
        def field(name):
            return env.get(name, {}).get("fieldRef", {}).get("fieldPath")
        need(field("POD_NAME") == "metadata.name", "mq container: env POD_NAME from metadata.name")
        need(field("NAMESPACE") == "metadata.namespace", "mq container: env NAMESPACE from metadata.namespace")
        def arg_after(flag):
            return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None
        need(arg_after("--id") == "$(POD_NAME)", "mq container: --id $(POD_NAME)")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        grpc = ports.get("grpc")
        need(grpc is not None and any(p.get("name") == "grpc" and p.get("port") == grpc
                                      for h in headless for p in h["spec"].get("ports", [])),
             "mq container: port grpc, the headless Service's grpc port")
        # Every pod binds the wildcard and is dialled at its name in the
        # headless Service, which its resolver finds in its own namespace.
        need(arg_after("--listen") == f"0.0.0.0:{grpc}", f"mq container: --listen 0.0.0.0:{grpc}")
        need(arg_after("--advertise") == f"$(POD_NAME).{service}:{grpc}",
             f"mq container: --advertise $(POD_NAME).{service}:{grpc} (the pod's name in Service {service})")
        need("--peers" not in args and "--join" not in args and "--initial-cluster-state" not in args,
             "mq container: --peers, --join and --initial-cluster-state come from the start files, not args")
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
        # --config DIR/$(CLUSTER_STATE).toml: DIR is a ConfigMap, the
        # variable one of its keys, and the file of each state in it.
        config = arg_after("--config") or ""
        config_dir, _, config_file = config.rpartition("/")
        need(config_file == "$(CLUSTER_STATE).toml", "mq container: --config DIR/$(CLUSTER_STATE).toml")
        volume = volumes.get(mounts.get(config_dir), {})
        map_name = volume.get("configMap", {}).get("name")
        maps = [d for d in of_kind("ConfigMap") if d["metadata"]["name"] == map_name]
        need(len(maps) == 1, f"mq container: a ConfigMap mounted at {config_dir or 'the --config directory'}")
        ref = env.get("CLUSTER_STATE", {}).get("configMapKeyRef", {})
        need(ref.get("name") == map_name, f"mq container: env CLUSTER_STATE from ConfigMap {map_name}")
        if maps:
            data = maps[0].get("data") or {}
            need(data.get(ref.get("key")) == "new",
                 f"ConfigMap {map_name}: {ref.get('key')} (CLUSTER_STATE) is new to begin with")
            items = volume["configMap"].get("items")
            mounted = {i.get("path"): i.get("key") for i in items} if items else {k: k for k in data}
            def start_file(state):
                key = mounted.get(f"{state}.toml")
                text = data.get(key) if key else None
                need(text is not None, f"ConfigMap {map_name}: {state}.toml, mounted at {config_dir}")
                if text is None:
                    return {}
                os.makedirs(f"{out}/cluster", exist_ok=True)
                with open(f"{out}/cluster/{state}.toml", "w") as f:
                    f.write(text)
                try:
                    return tomllib.loads(text)
                except tomllib.TOMLDecodeError as e:
                    problems.append(f"ConfigMap {map_name}: {state}.toml does not parse: {e}")
                    return {}
            new = start_file("new")
            existing = start_file("existing")
            # The bootstrap list names every replica the way it advertises
            # itself, in the order of the ordinals.
            peers = ",".join(f"{n}={n}.{service}:{grpc}" for n in pod_names)
            need(new.get("peers") == peers, f"{map_name} new.toml: peers = \"{peers}\"")
            need(new.get("initial-cluster-state") == "new", f"{map_name} new.toml: initial-cluster-state = \"new\"")
            need("join" not in new, f"{map_name} new.toml: no join")
            join = sorted(str(existing.get("join", "")).split(","))
            need(join == sorted(f"{n}.{service}:{grpc}" for n in pod_names),
                 f"{map_name} existing.toml: join names every pod, POD.{service}:{grpc}")
            need("peers" not in existing and "initial-cluster-state" not in existing,
                 f"{map_name} existing.toml: no peers, no initial-cluster-state")
        with open(f"{out}/args.txt", "w") as f:
            f.write("\n".join(args) + "\n")
        with open(f"{out}/facts.txt", "w") as f:
            f.write(f"config_dir={config_dir}\n")
            f.write(f"pods={' '.join(pod_names)}\n")

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

# ---- flags of the StatefulSet and keys of the TOML files exist -----------------
# The keys of a config file: each must be a flag of mq node, since the node
# ignores a key that is not one without a word.
toml_keys() { sed -n 's/^[[:space:]]*\([a-z][a-z0-9-]*\)[[:space:]]*=.*/\1/p' "$1"; }
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
for start in "$tmp"/cluster/*.toml; do
  [ -f "$start" ] || continue
  for key in $(toml_keys "$start"); do
    if has_flag "--$key"; then ok "start file ${start##*/} key $key is --$key of mq node"; else fail "start file ${start##*/} key $key is not a flag of mq node (--$key)"; fi
  done
done
toml="$kit/systemd/node.toml"
if [ ! -f "$toml" ]; then
  fail "no $toml"
else
  keys="$(toml_keys "$toml")"
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

# ---- the StatefulSet's flags, as each pod gets them ---------------------------
# The node's args for pod $1 with cluster state $2, as the StatefulSet gives
# them, with the variables filled in, the ConfigMap's start files read from
# where the check wrote them, the data dir and TLS directory replaced, and
# the flag $3 (when given) left out with its value.
node_args() {
  local name="$1" state="$2" drop="${3:-}" arg skip=0
  while IFS= read -r arg; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    if [ -n "$drop" ]; then
      [ "$arg" = "$drop" ] && { skip=1; continue; }
      case "$arg" in "$drop="*) continue ;; esac
    fi
    arg="${arg//\$(POD_NAME)/$name}"
    arg="${arg//\$(NAMESPACE)/test}"
    arg="${arg//\$(CLUSTER_STATE)/$state}"
    arg="${arg//"$config_dir/"/$tmp/cluster/}"
    arg="${arg//\/etc\/mq\/tls/$missing_tls}"
    arg="${arg//\/var\/lib\/mq\/data/$no_data_dir}"
    printf '%s\n' "$arg"
  done <"$tmp/args.txt"
}
# Runs the node with those args; its exit code in $node_rc, its output in
# $tmp/node.out.
node_run() {
  local -a args=()
  mapfile -t args < <(node_args "$@")
  # shellcheck disable=SC2016 # a literal $( left in the args
  if printf '%s\n' "${args[@]}" | grep -qF '$('; then
    fail "the StatefulSet's args use a variable this check does not fill in: $(printf '%s ' "${args[@]}")"
  fi
  node_rc=0
  timeout 20 "$mq" "${args[@]}" >"$tmp/node.out" 2>&1 || node_rc=$?
}
if [ -f "$tmp/args.txt" ] && [ -f "$tmp/facts.txt" ]; then
  config_dir="$(sed -n 's/^config_dir=//p' "$tmp/facts.txt")"
  read -r -a pods <<<"$(sed -n 's/^pods=//p' "$tmp/facts.txt")"
  if [ "${#pods[@]}" -eq 0 ] || [ -z "$config_dir" ]; then fail "no pods or no --config directory to check the StatefulSet's flags with"; fi
  # The node validates every flag (--advertise against its entry in
  # --peers, the wildcard --listen, the --join list, the token); the TLS
  # files, which do not exist here, come right after, so it stops there
  # (exit 2) before it opens the data dir, dials or binds anything.
  for state in new existing; do
    for pod in "${pods[@]}"; do
      node_run "$pod" "$state"
      if [ "$node_rc" -eq 2 ] && grep -q -- "$missing_tls/.*cannot read it" "$tmp/node.out"; then
        ok "mq node accepts the StatefulSet's flags for $pod with cluster-state $state"
      else
        fail "mq node with the StatefulSet's flags for $pod, cluster-state $state: exit $node_rc, expected 2 at the missing TLS file: $(cat "$tmp/node.out")"
      fi
    done
    # Without --advertise the wildcard --listen would be the address the
    # others dial: refused before the TLS files are looked at.
    node_run "${pods[0]}" "$state" --advertise
    if [ "$node_rc" -eq 2 ] && grep -q -- "--listen 0.0.0.0:[0-9]* is a wildcard address" "$tmp/node.out" &&
      ! grep -q -- "$missing_tls" "$tmp/node.out"; then
      ok "mq node refuses the StatefulSet's flags without --advertise (cluster-state $state), so the check above means something"
    else
      fail "mq node with the StatefulSet's flags less --advertise, cluster-state $state: exit $node_rc, expected 2 for the wildcard --listen: $(cat "$tmp/node.out")"
    fi
  done
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
