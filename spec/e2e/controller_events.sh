# Quiet Events (issue 16 item 6). Six new sources whose objects are edited
# while they reconcile (so status writes and child creations race, and the
# API server answers 409 Conflict or AlreadyExists) get no Warning
# InternalError: a stale read is retried, not reported. A source whose
# reconcile keeps failing (its sink is of a kind the controller may not
# read: Forbidden, retried with backoff) gets one Warning Event whose count
# grows, as client-go's recorder does, not one Event per retry.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_events
ctl_setup
ns=$(new_ns ctl-events)
# Its sources go when it ends: 'forbidden' (a sink the controller may not
# read) would otherwise keep a later cluster-wide controller (e.g.
# deploy_consistency's) retrying it and its informers unsynced.
e2e_after_exit "k -n $ns delete vss --all --ignore-not-found --wait=false"
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
src() { # src NAME SINK-YAML
  cat <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: $1}
spec:
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
  sink: $2
YAML
}
ctl_start a --lease-name "ctl-ev-$ns" --reconcilers vspheresource,vspherebinding

# ---- races: conflicts are retried quietly ---------------------------------------
# Each source is edited again and again from the moment it exists, so its
# first reconciles read stale copies.
pids=()
for i in 1 2 3 4 5 6; do
  ( src "s$i" "{uri: http://sink.example/$i}" | k -n "$ns" apply -f - >/dev/null
    for round in 1 2 3 4 5 6 7 8; do k -n "$ns" annotate vss "s$i" "e2e/round=$round" --overwrite >/dev/null; done ) &
  pids+=($!)
done
wait "${pids[@]}"   # not the controller, also a child of this shell
for i in 1 2 3 4 5 6; do wait_jp 60 "$ns" deploy "s$i-adapter" '{.metadata.name}' "s$i-adapter"; done
sleep 3
warn=$(k -n "$ns" get events --field-selector type=Warning -o json |
  jq -r '.items[] | select(.involvedObject.kind == "VSphereSource") | "\(.involvedObject.name) \(.reason) \(.message)"')
[ -z "$warn" ] || fail "Warning Events on sources that reconciled fine:
$warn"
echo "controller_events: six racing sources, no Warning"

# ---- a reconcile that keeps failing: one Event, counted -----------------------
src forbidden "{ref: {apiVersion: v1, kind: PersistentVolumeClaim, name: claim}}" | k -n "$ns" apply -f - >/dev/null
ev_of() { k -n "$ns" get events --field-selector "involvedObject.name=forbidden,reason=InternalError" -o json; }
counted() { [ "$(ev_of | jq '[.items[].count] | max // 0')" -ge 4 ]; }
wait_for 60 "the InternalError Event of 'forbidden' counted 4 times" counted
n=$(ev_of | jq '.items | length')
[ "$n" = 1 ] || fail "$n InternalError Events for one repeated failure (want 1, counted): $(ev_of | jq -c '[.items[] | {name: .metadata.name, count}]')"
ev_of | jq -e '.items[0] | .firstTimestamp != null and .lastTimestamp != null and .type == "Warning"' >/dev/null ||
  fail "the counted Event lacks its timestamps: $(ev_of | jq -c .items[0])"
echo "controller_events: one InternalError Event, count $(ev_of | jq '.items[0].count')"
