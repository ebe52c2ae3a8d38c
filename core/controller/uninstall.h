/*
 * uninstall.h - what `kubectl delete -f release.yaml` needs from the controller.
 *
 * The release's first object is the system namespace, so its deletion is the first request of
 * an uninstall; the namespace, the controller's service account and its RBAC go right after,
 * and with them any chance for the controller to run the VSphereBinding finalizer. The CRDs'
 * deletion would then wait forever on every VSphereBinding (the sources' own included). The
 * webhook `uninstall.webhook.vsphere.sources.tanzu.vmware.com` (DELETE of the release's
 * namespace, failurePolicy Ignore) calls vsg_uninstall_release() first, while everything still
 * works: the namespace is marked and the finalizer leaves every VSphereBinding; the reconciler
 * no longer adds it once vsg_uninstall_in_progress() says so. Subjects keep what was injected.
 */
#ifndef VSG_UNINSTALL_H
#define VSG_UNINSTALL_H

#include <stddef.h>

#include "base/err.h"
#include "kube/client.h"

#define VSG_UNINSTALL_ANNOTATION "sources.tanzu.vmware.com/uninstalling"
/* The VSphereBinding reconciler's finalizer (lua/reconcilers/vspherebinding.lua). */
#define VSG_BINDING_FINALIZER "vspherebindings.sources.tanzu.vmware.com"

/* How long a mark stands without the namespace's deletion behind it (an admission request can
 * fail after the webhook ran, or come from anyone who reaches the webhook port): after that,
 * finalizers are added again. */
#define VSG_UNINSTALL_MARK_SECONDS 120

/* Marks `system_ns` (annotation VSG_UNINSTALL_ANNOTATION = the time, RFC 3339) and removes
 * `finalizer` from every VSphereBinding of the cluster (a Conflict re-reads and retries).
 * *released: how many bindings lost it. Continues past a binding it cannot patch; returns the
 * first error. */
enum vsg_err vsg_uninstall_release(struct vsg_kube_client *c, const char *system_ns,
                                   const char *finalizer, size_t *released, struct vsg_error *err);

/* 1 when `system_ns` is being deleted or carries a mark younger than
 * VSG_UNINSTALL_MARK_SECONDS, 0 when not (or when it does not exist or may not be read: a
 * controller outside the release), -1 when it could not be read (logged; try again). */
int vsg_uninstall_in_progress(struct vsg_kube_client *c, const char *system_ns);

#endif
