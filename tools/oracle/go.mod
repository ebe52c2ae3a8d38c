// Test-only oracle: decodes vSphere SOAP event pages with the govmomi version
// the Go adapter (sources-for-knative) vendored and prints each event's
// encoding/json and encoding/xml payload, as the adapter did. Built by
// build.sh into the peer cache; never linked into vsgate.
module vsgate/tools/oracle

go 1.25

require github.com/vmware/govmomi v0.24.1-0.20210127152625-854ba4efe87e
