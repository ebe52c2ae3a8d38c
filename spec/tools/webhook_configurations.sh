#!/usr/bin/env bash
# The shipped deploy/webhooks/700-webhook-configurations.yaml is exactly
# what lua/webhook/configurations.lua, the one source of the webhook
# configurations, builds in Service mode for the release's namespace and
# Service (the controller registers the same webhooks by URL in URL mode,
# and its leader keeps the binding webhook's fields as the module says).
# Also: the controller's ClusterRole may patch every built-in kind of
# lua/lib/podspecable.lua; the optional (Knative) ones come through the
# aggregated role vsphere-source-podspecable-binding, which must exist.
set -euo pipefail
src=${1:?usage: webhook_configurations.sh SOURCE_DIR LUA_CMODULES_DIR}
cmods=${2:?usage: webhook_configurations.sh SOURCE_DIR LUA_CMODULES_DIR (<build>/lua-cmodules, with vsg.so)}
[ -f "$cmods/vsg.so" ] || { echo "no vsg.so in $cmods: build the target vsg_lua_module first" >&2; exit 1; }
built=$(VSG_SRC=$src VSG_CMODS=$cmods lua5.4 -e '
  package.path = os.getenv("VSG_SRC") .. "/lua/?.lua;" .. package.path
  package.cpath = os.getenv("VSG_CMODS") .. "/?.so;" .. package.cpath
  local c = require("webhook.configurations")
  local out = c.build({ system_namespace = "vmware-sources", selection_mode = "exclusion",
                        service = "vsphere-source-webhook" })
  print(require("lib.gojson").encode({ configurations = out.configurations,
                                       podspecable = require("lib.podspecable") }))')
python3 - "$src" "$built" <<'PYEOF'
import json, sys, yaml
src, built = sys.argv[1], json.loads(sys.argv[2])
shipped = [d for d in yaml.safe_load_all(open(src + "/deploy/webhooks/700-webhook-configurations.yaml")) if d]
want = built["configurations"]
fail = []
names = lambda l: [d["metadata"]["name"] for d in l]
if names(shipped) != names(want):
    fail.append("configurations: shipped %s, built %s" % (names(shipped), names(want)))
for s, w in zip(shipped, want):
    if s != w:
        for k in sorted(set(s) | set(w)):
            if s.get(k) != w.get(k):
                fail.append("%s: %s: shipped %s\n    built %s" % (s["metadata"]["name"], k,
                            json.dumps(s.get(k), sort_keys=True), json.dumps(w.get(k), sort_keys=True)))
# The ClusterRole lets the controller patch every built-in kind it binds.
role = next(d for d in yaml.safe_load_all(open(src + "/deploy/system/200-clusterrole-controller.yaml"))
            if d and d.get("kind") == "ClusterRole")
agg = [d for d in yaml.safe_load_all(open(src + "/deploy/system/202-clusterroles-aggregated.yaml"))
       if d and d.get("metadata", {}).get("name") == "vsphere-source-podspecable-binding"]
if not agg or agg[0].get("aggregationRule", {}).get("clusterRoleSelectors") != \
        [{"matchLabels": {"duck.knative.dev/podspecable": "true"}}]:
    fail.append("no aggregated ClusterRole vsphere-source-podspecable-binding for the optional kinds")
for k in built["podspecable"]:
    if k.get("optional"):
        continue
    group = k["apiVersion"].rpartition("/")[0]
    ok = any(group in r.get("apiGroups", []) and k["resource"] in r.get("resources", []) and
             "patch" in r.get("verbs", []) for r in role["rules"])
    if not ok:
        fail.append("ClusterRole: no patch on %s.%s" % (k["resource"], group))
for f in fail:
    print("not ok: " + f)
if fail:
    sys.exit(1)
print("ok: %d configurations, %d built-in kinds" % (len(want), len(built["podspecable"])))
PYEOF
