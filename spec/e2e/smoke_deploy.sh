# The shipped manifests: deploy/crds and deploy/system apply to a real API server and create
# what CONTRACTS §7 lists; the controller's RBAC allows what the reconcilers need and denies the
# rest (checked as the harness's controller identity, user vsphere-controller, bound to the
# shipped roles by this test); deploy/webhooks is valid against the API server's OpenAPI
# schema but never applied (failurePolicy: Fail with no webhook behind the Service would block
# other tests).
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
D=$VSG_SOURCE_DIR/deploy

k apply -f "$D/crds/" >/dev/null
out=$(k apply -f "$D/system/")
for o in serviceaccount/vsphere-controller \
  clusterrole.rbac.authorization.k8s.io/vsphere-source-controller \
  clusterrole.rbac.authorization.k8s.io/vsphere-receive-adapter-cm \
  clusterrole.rbac.authorization.k8s.io/vsphere-source-addressable-resolver \
  clusterrole.rbac.authorization.k8s.io/vsphere-source-podspecable-binding \
  clusterrole.rbac.authorization.k8s.io/vsphere-source-observer \
  role.rbac.authorization.k8s.io/vsphere-source-controller \
  clusterrolebinding.rbac.authorization.k8s.io/vsphere-source-controller \
  rolebinding.rbac.authorization.k8s.io/vsphere-source-controller \
  secret/vsphere-webhook-certs configmap/config-logging configmap/config-observability \
  configmap/config-leader-election service/vsphere-source-webhook deployment.apps/vsphere-source-webhook; do
  expect_contains "$out" "$o" "apply deploy/system"
done
# Applying again changes nothing (no field fights with the aggregation controller).
out=$(k apply -f "$D/system/")
case "$out" in *configured*) fail "second apply changed something: $out" ;; esac

k get namespace vmware-sources >/dev/null
k -n vmware-sources get serviceaccount/vsphere-controller secret/vsphere-webhook-certs >/dev/null
svc=$(k -n vmware-sources get service vsphere-source-webhook -o jsonpath='{.spec.ports[0].port}->{.spec.ports[0].targetPort}')
[ "$svc" = "443->https-webhook" ] || fail "webhook Service ports: $svc"
port=$(k -n vmware-sources get deploy vsphere-source-webhook \
  -o jsonpath='{.spec.template.spec.containers[0].ports[?(@.name=="https-webhook")].containerPort}')
[ "$port" = 8443 ] || fail "webhook container port: $port"
sel=$(k get clusterrole vsphere-source-addressable-resolver -o jsonpath='{.aggregationRule.clusterRoleSelectors[0].matchLabels}')
expect_contains "$sel" '"duck.knative.dev/addressable":"true"' "addressable-resolver aggregation"
lbl=$(k get clusterrole vsphere-source-observer -o jsonpath='{.metadata.labels}')
expect_contains "$lbl" '"duck.knative.dev/source":"true"' "source-observer label"
sa=$(k -n vmware-sources get deploy vsphere-source-webhook -o jsonpath='{.spec.template.spec.serviceAccountName}')
[ "$sa" = vsphere-controller ] || fail "controller service account: $sa"

# ---- RBAC, as the controller's identity -------------------------------------------------
id=$RANDOM$RANDOM
cleanup() { k delete clusterrolebinding "smoke-deploy-$id" --ignore-not-found >/dev/null 2>&1 || true; }
trap cleanup EXIT
k create clusterrolebinding "smoke-deploy-$id" --clusterrole=vsphere-source-controller \
  --user=vsphere-controller >/dev/null
k -n vmware-sources create rolebinding "smoke-deploy-$id" --role=vsphere-source-controller \
  --user=vsphere-controller >/dev/null
ns=$(new_ns smoke-deploy)
other=$(new_ns smoke-deploy-other)
as=(--as=vsphere-controller --as-group=vsgate:controllers)
can() { # VERB RESOURCE [NAMESPACE]
  k auth can-i "$1" "$2" ${3:+-n "$3"} "${as[@]}" >/dev/null 2>&1 || fail "controller cannot $1 $2 ${3:+in $3}"
}
cannot() {
  if k auth can-i "$1" "$2" ${3:+-n "$3"} "${as[@]}" >/dev/null 2>&1; then fail "controller may $1 $2 ${3:+in $3}"; fi
}
can_sub() { # VERB RESOURCE SUBRESOURCE NAMESPACE
  k auth can-i "$1" "$2" --subresource="$3" -n "$4" "${as[@]}" >/dev/null 2>&1 || fail "controller cannot $1 $2/$3"
}
for v in get list watch; do can "$v" vspheresources.sources.tanzu.vmware.com "$ns"; done
for v in update patch; do
  can_sub "$v" vspheresources.sources.tanzu.vmware.com status "$ns"
  can_sub "$v" vspherebindings.sources.tanzu.vmware.com status "$ns"
done
can_sub update vspheresources.sources.tanzu.vmware.com finalizers "$ns"
if k auth can-i update vspheresources.sources.tanzu.vmware.com -n "$ns" "${as[@]}" >/dev/null 2>&1; then
  fail "controller may update VSphereSources (it only writes their status)"
fi
for v in get list watch create update patch; do can "$v" vspherebindings.sources.tanzu.vmware.com "$ns"; done
for v in get list watch create update patch delete; do can "$v" deployments.apps "$ns"; done
for v in get list watch create; do can "$v" configmaps "$ns"; done
for v in get list watch create update delete; do can "$v" rolebindings.rbac.authorization.k8s.io "$ns"; done
for r in serviceaccounts services namespaces; do can list "$r"; can watch "$r"; done
can create events "$ns"
can patch events "$ns"
can patch jobs.batch "$ns"
can patch statefulsets.apps "$ns"
for v in get list watch create update patch; do can "$v" secrets vmware-sources; done
for v in get create update; do can "$v" leases.coordination.k8s.io vmware-sources; done
can update mutatingwebhookconfigurations.admissionregistration.k8s.io/vspherebindings.webhook.vsphere.sources.tanzu.vmware.com
can update validatingwebhookconfigurations.admissionregistration.k8s.io/validation.webhook.vsphere.sources.tanzu.vmware.com
can update validatingwebhookconfigurations.admissionregistration.k8s.io/uninstall.webhook.vsphere.sources.tanzu.vmware.com
# ... and nothing it does not need.
# Secrets elsewhere: get by name only (secretRef checks), never enumerate or write.
can get secrets "$ns"
for v in list watch create update; do cannot "$v" secrets "$ns"; cannot "$v" secrets "$other"; done
cannot list secrets
cannot watch secrets
cannot create pods "$ns"
cannot get pods "$ns"
cannot exec pods "$ns"
cannot create serviceaccounts "$ns"
cannot update configmaps "$ns"
cannot delete configmaps "$ns"
cannot create vspheresources.sources.tanzu.vmware.com "$ns"
cannot delete vspheresources.sources.tanzu.vmware.com "$ns"
cannot create clusterrolebindings.rbac.authorization.k8s.io
cannot create leases.coordination.k8s.io "$ns"
cannot update mutatingwebhookconfigurations.admissionregistration.k8s.io/someone-elses-webhook
cannot create customresourcedefinitions.apiextensions.k8s.io
cannot patch nodes

# The per-source RoleBinding: the controller may bind vsphere-receive-adapter-cm (and only it).
ka() { k "${as[@]}" "$@"; }
ka -n "$ns" create rolebinding adapter-rb --clusterrole=vsphere-receive-adapter-cm \
  --serviceaccount="$ns:default" >/dev/null || fail "controller cannot bind vsphere-receive-adapter-cm"
expect_fail_with "forbidden" ka -n "$ns" create rolebinding escalate --clusterrole=cluster-admin --serviceaccount="$ns:default"
# ... which lets the adapter keep its checkpoint and report Events, and no more.
adapter=(--as="system:serviceaccount:$ns:default" --as-group=system:serviceaccounts)
for v in get list watch create update; do
  k auth can-i "$v" configmaps -n "$ns" "${adapter[@]}" >/dev/null || fail "adapter cannot $v configmaps"
done
k auth can-i create events -n "$ns" "${adapter[@]}" >/dev/null || fail "adapter cannot create events"
if k auth can-i get secrets -n "$ns" "${adapter[@]}" >/dev/null 2>&1; then fail "adapter may read secrets"; fi
if k auth can-i get configmaps -n "$other" "${adapter[@]}" >/dev/null 2>&1; then fail "adapter may read other namespaces"; fi

# ---- deploy/webhooks: checked against the server's OpenAPI schema, never applied -----------
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
k apply --dry-run=client -o json -f "$D/webhooks/" >"$tmp/webhooks.json"
k get --raw /openapi/v3/apis/admissionregistration.k8s.io/v1 >"$tmp/openapi.json"
python3 - "$tmp/webhooks.json" "$tmp/openapi.json" <<'PY' || fail "deploy/webhooks does not match the API schema"
import json, sys
objs = json.load(open(sys.argv[1]))
objs = objs["items"] if objs.get("kind") == "List" else [objs]
schemas = json.load(open(sys.argv[2]))["components"]["schemas"]
errors = []
def resolve(s):
    while True:
        if "$ref" in s:
            s = schemas[s["$ref"].split("/")[-1]]
        elif "allOf" in s and len(s["allOf"]) == 1 and len(s) <= 3:
            s = {**{k: v for k, v in s.items() if k != "allOf"}, **s["allOf"][0]}
        else:
            return s
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
def check(v, s, path):
    s = resolve(s)
    t = s.get("type")
    if t in TYPES and not isinstance(v, TYPES[t]):
        errors.append(f"{path}: expected {t}")
        return
    if "enum" in s and v not in s["enum"]:
        errors.append(f"{path}: {v!r} not in {s['enum']}")
    if isinstance(v, dict) and "properties" in s:
        for r in s.get("required", []):
            if r not in v:
                errors.append(f"{path}.{r}: required")
        for k, x in v.items():
            if k not in s["properties"]:
                errors.append(f"{path}.{k}: unknown field")
            else:
                check(x, s["properties"][k], f"{path}.{k}")
    elif isinstance(v, dict) and "additionalProperties" in s:
        for k, x in v.items():
            check(x, s["additionalProperties"], f"{path}.{k}")
    elif isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            check(x, s["items"], f"{path}[{i}]")
for o in objs:
    check(o, schemas["io.k8s.api.admissionregistration.v1." + o["kind"]], o["metadata"]["name"])
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
got=$(jq -r '.items[] | .kind + " " + .metadata.name + " " + (.webhooks[] | .clientConfig.service.namespace + "/"
  + .clientConfig.service.name + .clientConfig.service.path + " " + .failurePolicy + " " + .sideEffects + " "
  + (.admissionReviewVersions | join(",")))' "$tmp/webhooks.json")
want="MutatingWebhookConfiguration defaulting.webhook.vsphere.sources.tanzu.vmware.com vmware-sources/vsphere-source-webhook/defaulting Fail None v1
ValidatingWebhookConfiguration validation.webhook.vsphere.sources.tanzu.vmware.com vmware-sources/vsphere-source-webhook/resource-validation Fail None v1
MutatingWebhookConfiguration vspherebindings.webhook.vsphere.sources.tanzu.vmware.com vmware-sources/vsphere-source-webhook/vspherebindings Fail None v1
ValidatingWebhookConfiguration uninstall.webhook.vsphere.sources.tanzu.vmware.com vmware-sources/vsphere-source-webhook/uninstall Ignore NoneOnDryRun v1"
[ "$got" = "$want" ] || fail "webhook configurations: got
$got"
# The harness must still have none of them.
if k get mutatingwebhookconfigurations,validatingwebhookconfigurations -o name | grep vsphere >/dev/null; then
  fail "a vsphere webhook configuration is registered in the harness"
fi
echo "smoke_deploy: ok"
