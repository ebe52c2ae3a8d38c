/*
 * kn.h - the command line of the Go project's `kn vsphere` plugin
 * (kn-vsphere v0.39): `auth`, `source` and `binding`, with their flags,
 * checks, messages and table columns, plus vsgate's additions (describe,
 * --dry-run, -o, filters, completion). Shared by cmd_kn.c (the tree,
 * creating and deleting) and cmd_kn_show.c (list and describe).
 *
 * Provides: vsg_kn_main() for both names of the binary, and the helpers
 * the two files share (struct vsg_kn, kube access and error texts).
 * Uses: cmd/cli.h, kube/ (config, client, discovery), soap/ (--verify-url),
 * cmd/cli_print.h. Owns: a struct vsg_kn owns its configuration and client
 * until vsg_kn_close().
 */
#ifndef VSG_CMD_KN_H
#define VSG_CMD_KN_H

#include <cjson/cJSON.h>

#include "cmd/cli.h"
#include "kube/client.h"
#include "kube/config.h"

/* The API group and version of VSphereSource and VSphereBinding. */
#define VSG_KN_API_VERSION "sources.tanzu.vmware.com/v1alpha1"

/*
 * Runs the command line named `root` ("kn-vsphere" or "vsgate") over
 * argv (argv[0] is the first word: the binary or "auth", "source", ...
 * when vsgate's main hands over).
 */
int vsg_kn_main(const char *root, int argc, char **argv);

/* One command's connection to the API server. */
struct vsg_kn {
    struct vsg_cli_ctx *c;
    struct vsg_kube_config cfg;
    struct vsg_kube_client *kc;
    const char *ns; /* -n, else the kubeconfig context's namespace. */
};

/*
 * Loads the kubeconfig as kubectl does (--kubeconfig, $KUBECONFIG, ~/.kube/
 * config, in-cluster; --context) and makes a client. With `offline` a
 * missing configuration is not an error (client-side dry runs): the
 * namespace is then -n or "default" and k->kc is NULL. Prints the error and
 * returns 1 on failure.
 */
int vsg_kn_open(struct vsg_kn *k, struct vsg_cli_ctx *c, int offline);
void vsg_kn_close(struct vsg_kn *k);

/* The API server's own message for a failed request: the Status message
 * without vsgate's "METHOD PATH: code reason: " prefix. */
const char *vsg_kn_api_message(const char *method, const char *path, const char *msg);

/* -o: "" (none), "json", "yaml", or (with `allow_name`) "name". Prints
 * kubectl's error and returns -1 for another value. */
int vsg_kn_output_check(struct vsg_cli_ctx *c, int allow_name);

/* Prints `obj` as -o asks (json or yaml). */
int vsg_kn_print_obj(struct vsg_cli_ctx *c, const cJSON *obj);

/* `source list`, `binding list` and the describes (cmd_kn_show.c). */
int vsg_kn_list(struct vsg_cli_ctx *c, const char *resource, const char *what);
int vsg_kn_source_describe(struct vsg_cli_ctx *c);
int vsg_kn_binding_describe(struct vsg_cli_ctx *c);

#endif
