/*
 * kube/exec_credential.h - client-go exec credential plugins: runs the
 * command a kubeconfig user names under exec: and reads the ExecCredential
 * it prints. kube/config.c reads the exec: mapping (YAML) into a
 * struct vsg_kube_exec_spec and calls vsg_kube_exec_credential().
 *
 * Provides: struct vsg_kube_exec_spec (the plugin's settings, plain C),
 * struct vsg_kube_exec_cluster (what provideClusterInfo hands on),
 * vsg_kube_exec_check() (the settings alone) and vsg_kube_exec_credential()
 * (one run, filling the token or client certificate of a
 * struct vsg_kube_config).
 * Uses: posix_spawn, poll, cJSON (the plugin's output), OpenSSL (base64 of
 * the CA), base/.
 * Owns: nothing of the spec or the cluster (all borrowed for the call);
 * the strings put into the struct vsg_kube_config are the config's.
 *
 * One run, as client-go does it:
 *   - apiVersion client.authentication.k8s.io/v1 or v1beta1; v1 needs
 *     interactiveMode (Never or IfAvailable; Always is refused, as plugins
 *     run without a terminal);
 *   - command: searched in $PATH when it has no slash, else relative to
 *     spec->dir; argv is the command as written, then the args; no shell;
 *   - environment: ours, then the env entries, then
 *     KUBERNETES_EXEC_INFO={"apiVersion":...,"kind":"ExecCredential",
 *     "spec":{"interactive":false}}, with "cluster" (server,
 *     certificate-authority-data, insecure-skip-tls-verify) in spec when
 *     provideClusterInfo is set; a later entry of the same name wins;
 *   - stdin /dev/null, stderr ours, stdout read (at most
 *     VSG_KUBE_EXEC_MAX_OUTPUT bytes) within VSG_KUBE_EXEC_TIMEOUT_S, else
 *     the plugin is killed; an exit status other than 0 is an error;
 *   - stdout must be an ExecCredential JSON of the apiVersion asked for:
 *     status.token gives cfg->token; status.clientCertificateData and
 *     clientKeyData (PEM text, both or neither) give cfg->cert_pem and
 *     cfg->key_pem.
 * Every message reads "<origin>: user "<user>": exec: <detail>", the
 * detail worded as client-go words it ("executable <cmd> not found" plus
 * the installHint, "executable <cmd> failed with exit code <n>", "the
 * plugin's output is not an ExecCredential: ...", "apiVersion <v> was
 * asked for, the plugin answered <x>"): VSG_ERR_IO when it cannot run,
 * VSG_ERR_INVAL for bad settings or output. Messages never quote the
 * plugin's output, so never a secret.
 */
#ifndef VSG_KUBE_EXEC_CREDENTIAL_H
#define VSG_KUBE_EXEC_CREDENTIAL_H

#include <stddef.h>

#include "base/err.h"

struct vsg_kube_config;

/* Largest output read from an exec credential plugin, in bytes. */
#define VSG_KUBE_EXEC_MAX_OUTPUT (1024u * 1024)

/* Seconds an exec credential plugin may run before it is killed. */
#define VSG_KUBE_EXEC_TIMEOUT_S 60

/* One env entry of the plugin. */
struct vsg_kube_exec_env {
    const char *name;  /* Non-empty, without '='. */
    const char *value; /* NULL is "". */
};

/* The exec: settings of a kubeconfig user. Every pointer is borrowed. */
struct vsg_kube_exec_spec {
    const char *command;                 /* As written (argv[0]), or NULL. */
    const char *const *args;             /* NULL-terminated, or NULL for none. */
    const struct vsg_kube_exec_env *env; /* nenv entries, added to our environment. */
    size_t nenv;
    const char *api_version;      /* client.authentication.k8s.io/v1 or v1beta1, or NULL. */
    const char *install_hint;     /* Added to "not found", or NULL. */
    const char *interactive_mode; /* "Never", "IfAvailable", or NULL. */
    int provide_cluster_info;     /* Nonzero: the cluster goes in KUBERNETES_EXEC_INFO. */
    const char *dir;              /* Folder a command with a slash resolves against
                                     (NULL: the current folder). */
    const char *origin;           /* The kubeconfig named in messages. */
    const char *user;             /* The user named in messages. */
};

/* The cluster, for provideClusterInfo. Every pointer is borrowed. */
struct vsg_kube_exec_cluster {
    const char *server;  /* API server URL. */
    const char *ca_pem;  /* PEM CA text, or NULL. */
    const char *ca_file; /* PEM CA file (read when ca_pem is NULL), or NULL. */
    int insecure;        /* Nonzero: insecure-skip-tls-verify. */
};

/* Checks the settings that need no run: command and apiVersion given,
 * apiVersion and interactiveMode known and usable. VSG_ERR_INVAL. */
enum vsg_err vsg_kube_exec_check(const struct vsg_kube_exec_spec *spec, struct vsg_error *err);

/*
 * Checks `spec` as vsg_kube_exec_check() does, runs the plugin once (see
 * above) and sets cfg->token, or cfg->cert_pem and cfg->key_pem (which
 * must be NULL before). On error nothing of `cfg` is set, except that
 * cfg->cert_pem may be set when out of memory (the caller cleans `cfg` up).
 */
enum vsg_err vsg_kube_exec_credential(const struct vsg_kube_exec_spec *spec,
                                      const struct vsg_kube_exec_cluster *cluster,
                                      struct vsg_kube_config *cfg, struct vsg_error *err);

#endif
