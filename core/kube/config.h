/*
 * kube/config.h - where the Kubernetes API server is and how to talk to it:
 * kubeconfig files (libyaml) and the in-cluster service account.
 *
 * Provides: struct vsg_kube_config and the loaders vsg_kube_config_load()
 * (the usual search order), vsg_kube_config_load_kubectl() (kubectl's
 * order), vsg_kube_config_load_file(),
 * vsg_kube_config_parse() (from memory, for tests) and
 * vsg_kube_config_load_incluster(); vsg_kube_config_cleanup().
 * Uses: libyaml (document API), OpenSSL (base64 of the *-data fields),
 * kube/exec_credential.h (exec plugins), base/.
 * Owns: a struct vsg_kube_config is caller-allocated and owns every string
 * in it until vsg_kube_config_cleanup().
 *
 * Search order of vsg_kube_config_load() (the one knative.dev/pkg uses):
 *   1. an explicit kubeconfig path (the --kubeconfig flag), if given;
 *   2. $KUBECONFIG: a single file is loaded as it is (it must exist); a
 *      colon list of several is merged as kubectl (client-go's clientcmd)
 *      does, see below; when none of its files exists the step counts as
 *      not configured;
 *   3. in-cluster: $KUBERNETES_SERVICE_HOST/_PORT plus the service account
 *      folder (/var/run/secrets/kubernetes.io/serviceaccount, or $VSG_SA_DIR)
 *      with files token, ca.crt and namespace;
 *   4. ~/.kube/config.
 * A step that is not configured is skipped; a step that is configured but
 * broken is an error (no silent fall-through), except that a half-present
 * in-cluster setup falls through to ~/.kube/config when that file exists.
 *
 * Search order of vsg_kube_config_load_kubectl() (kubectl's):
 *   1. the explicit path, if given; it must exist ("config file '<path>'
 *      can not be found", VSG_ERR_IO, as the Go kn-vsphere plugin says);
 *   2. $KUBECONFIG merged (even a single entry is skipped when missing);
 *   3. ~/.kube/config, if it exists, but only when $KUBECONFIG is unset
 *      or empty: as in kubectl, a non-empty $KUBECONFIG none of whose
 *      files exists goes straight on to step 4;
 *   4. in-cluster, with the namespace from $POD_NAMESPACE when set, else
 *      the service account's namespace file.
 * Nothing configured is VSG_ERR_NOTFOUND ("invalid configuration: no
 * configuration has been provided, ..."); a broken step is an error.
 *
 * Merging a $KUBECONFIG list (client-go's rules): the files in order;
 * entries that do not exist are skipped silently, a file that exists but
 * cannot be read or parsed is an error naming it; current-context comes
 * from the first file that sets a non-empty one; a context, cluster or
 * user is taken from the first file that defines that name (later ones of
 * the same name are ignored); relative paths resolve against the folder of
 * the file the entry came from; cfg->origin names the context's file.
 *
 * From a kubeconfig, the chosen context (current-context unless one is
 * named) gives: cluster server, certificate-authority (file) or
 * certificate-authority-data (base64 PEM; data wins over file, as in
 * client-go), insecure-skip-tls-verify, user client-certificate(-data),
 * client-key(-data), token or tokenFile (the file wins and is re-read when
 * it changes), and the context namespace ("default" when unset). Relative
 * file paths are resolved against the kubeconfig's folder. auth-provider
 * plugins (gone from kubectl since 1.26) are not supported: a user that has
 * nothing else is VSG_ERR_UNSUPPORTED.
 *
 * Exec credential plugins (client-go's, users: exec:): when the user has no
 * token and no client certificate, its exec plugin runs once, at load time
 * (a token that expires later is not renewed; load again), and gives
 * cfg->token, or cfg->cert_pem and cfg->key_pem. The settings read are
 * command, args, env, apiVersion, installHint, interactiveMode and
 * provideClusterInfo; a command with a slash resolves against the folder
 * of the kubeconfig the user came from. How the plugin runs and what its
 * failures say: kube/exec_credential.h.
 */
#ifndef VSG_KUBE_CONFIG_H
#define VSG_KUBE_CONFIG_H

#include <stddef.h>

#include "base/err.h"

/* The service account folder of an in-cluster pod ($VSG_SA_DIR overrides). */
#define VSG_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Largest kubeconfig, token or CA file read, in bytes. */
#define VSG_KUBE_CONFIG_MAX_FILE (4u * 1024 * 1024)

struct vsg_kube_config {
    char *server;     /* API server base URL without trailing slash. */
    char *ca_file;    /* PEM CA file to trust instead of system roots, or NULL. */
    char *ca_pem;     /* PEM CA text (decoded -data) instead of system roots, or NULL. */
    int insecure;     /* Nonzero: skip TLS verification of the server. */
    char *cert_file;  /* Client certificate file (PEM), or NULL. */
    char *key_file;   /* Its key file (PEM), or NULL. */
    char *cert_pem;   /* Client certificate as PEM text, or NULL. */
    char *key_pem;    /* Its key as PEM text, or NULL. */
    char *token;      /* Bearer token (static, or the first read of token_file), or NULL. */
    char *token_file; /* File the bearer token is re-read from when it changes, or NULL. */
    char *ns;         /* Default namespace: the context's or in-cluster one; never NULL after a load. */
    char *context;    /* Name of the context used, or NULL when in-cluster. */
    char *origin;     /* Where it came from: the kubeconfig path or "in-cluster". */
    int in_cluster;   /* Nonzero when loaded from the service account. */
};

/* ====================================================================
 * Loading
 * ==================================================================== */

/*
 * Loads the configuration in the search order above. `kubeconfig` is the
 * explicit path (NULL or "" for none); `context` names a context to use
 * instead of current-context (NULL or "" for the current one; ignored
 * in-cluster). On success `cfg` is filled (clean it up); on error it is
 * left empty and `err` says which source failed and why. VSG_ERR_NOTFOUND
 * when nothing at all is configured.
 */
enum vsg_err vsg_kube_config_load(const char *kubeconfig, const char *context,
                                  struct vsg_kube_config *cfg,
                                  struct vsg_error *err);

/*
 * Loads the configuration in kubectl's search order above; arguments,
 * result and errors as for vsg_kube_config_load().
 */
enum vsg_err vsg_kube_config_load_kubectl(const char *kubeconfig, const char *context,
                                          struct vsg_kube_config *cfg,
                                          struct vsg_error *err);

/* Loads the kubeconfig file at `path` (no search). VSG_ERR_IO when it
 * cannot be read, VSG_ERR_PARSE for bad YAML (with line and column),
 * VSG_ERR_INVAL for a well-formed file that lacks what is needed. */
enum vsg_err vsg_kube_config_load_file(const char *path, const char *context,
                                       struct vsg_kube_config *cfg,
                                       struct vsg_error *err);

/* Parses kubeconfig YAML from memory. `dir` is the folder relative file
 * paths resolve against (NULL: the current folder); `origin` names it in
 * messages and cfg->origin (NULL: "kubeconfig"). */
enum vsg_err vsg_kube_config_parse(const char *yaml, size_t len,
                                   const char *dir, const char *origin,
                                   const char *context,
                                   struct vsg_kube_config *cfg,
                                   struct vsg_error *err);

/* Loads the in-cluster configuration. VSG_ERR_NOTFOUND when
 * KUBERNETES_SERVICE_HOST or _PORT is unset; VSG_ERR_IO when the token or
 * CA file cannot be read. */
enum vsg_err vsg_kube_config_load_incluster(struct vsg_kube_config *cfg,
                                            struct vsg_error *err);

/* Frees every string and zeroes `cfg`. NULL is a no-op; safe to call on a
 * zeroed or half-filled struct. */
void vsg_kube_config_cleanup(struct vsg_kube_config *cfg);

/* ====================================================================
 * For kube/ only (config.c and exec_credential.c), not an API
 * ==================================================================== */

/* Reads the whole file `path`, at most `max` bytes, into *out (NUL
 * terminated, owned) and its length into *outlen. VSG_ERR_NOTFOUND when
 * it does not exist, VSG_ERR_IO or VSG_ERR_TOOBIG otherwise. */
enum vsg_err vsg_kube_slurp(const char *path, size_t max, char **out, size_t *outlen,
                            struct vsg_error *err);

/* `rel` resolved against `dir` (unchanged when absolute or dir is empty),
 * owned; NULL when out of memory. */
char *vsg_kube_resolve_path(const char *dir, const char *rel);

#endif
