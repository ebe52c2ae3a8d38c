/*
 * client/env.h - what libvsgate reads from a bound workload's environment
 * (CONTRACTS §5 plus the Go pkg/vsphere EnvConfig): VC_URL, VC_INSECURE,
 * VC_SECRET_PATH with its `username`/`password` files (fallback: the
 * VC_USERNAME/VC_PASSWORD env vars when a file does not exist), and
 * VC_CA_CERTS (PEM text or a PEM file's path).
 *
 * Provides: struct vsg_client_env, vsg_client_env_read() and its cleanup.
 * Uses: base/, soap/session.h (vsg_soap_clean_url).
 * Owns: every string of the struct (the password is wiped on cleanup).
 *
 * Errors are VSG_ERR_INVAL (a missing or malformed variable, an empty
 * credential, no PEM certificate), VSG_ERR_IO (a file that exists but
 * cannot be read), VSG_ERR_TOOBIG, VSG_ERR_NOMEM; messages name the
 * variable or file, never a credential.
 */
#ifndef VSG_CLIENT_ENV_H
#define VSG_CLIENT_ENV_H

#include "base/err.h"

/* Default mount point of the binding's Secret. */
#define VSG_CLIENT_SECRET_PATH "/var/bindings/vsphere"
/* Largest credential or CA file read. */
#define VSG_CLIENT_FILE_MAX (1024 * 1024)

/* Where a credential came from. */
enum vsg_client_src {
    VSG_CLIENT_SRC_FILE = 1, /* <secret path>/<key> */
    VSG_CLIENT_SRC_ENV = 2   /* VC_USERNAME / VC_PASSWORD */
};

struct vsg_client_env {
    char *url;                  /* VC_URL cleaned: "https://vc/sdk". */
    int insecure;               /* VC_INSECURE. */
    char *secret_path;          /* The folder the files were looked for in. */
    char *username;             /* Verbatim. */
    char *password;             /* Verbatim; wiped on cleanup. */
    enum vsg_client_src username_src, password_src;
    char *ca_pem;               /* VC_CA_CERTS as PEM text, or NULL. */
};

/*
 * Fills `out` (zeroed first) from the environment. `secret_path` overrides
 * VC_SECRET_PATH when not NULL. Empty variables count as unset. On error
 * `out` is left empty.
 */
enum vsg_err vsg_client_env_read(const char *secret_path, struct vsg_client_env *out,
                                 struct vsg_error *err);

/* Frees (and wipes) everything; `e` is left zeroed. NULL is a no-op. */
void vsg_client_env_cleanup(struct vsg_client_env *e);

/* Overwrites `n` bytes at `p` in a way the compiler may not drop. */
void vsg_client_wipe(void *p, size_t n);

#endif
