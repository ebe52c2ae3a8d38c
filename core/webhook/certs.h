/*
 * webhook/certs.h - the webhook's certificates: a self-signed CA and an ECDSA
 * P-256 serving certificate signed by it (as knative's certificates
 * controller makes them, upstream.md §8), their checks, and base64.
 *
 * Provides: struct vsg_certs (PEM texts: ca-cert.pem, server-cert.pem,
 * server-key.pem as PKCS#8), vsg_certs_generate(), vsg_certs_check() (is
 * this set usable, and for how long), base64 helpers for Secret data.
 * Uses: OpenSSL (EVP, X509, PEM), base/.
 * Owns: a struct vsg_certs owns its three strings (vsg_certs_cleanup()).
 */
#ifndef VSG_CERTS_H
#define VSG_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct vsg_certs {
    char *ca_pem;   /* The CA certificate (caBundle, Secret key ca-cert.pem). */
    char *cert_pem; /* The serving certificate (server-cert.pem). */
    char *key_pem;  /* Its private key, PKCS#8 PEM (server-key.pem). */
};

/* What the serving certificate must name. */
struct vsg_certs_names {
    const char *cn;              /* Subject CN. */
    const char *const *dns;      /* DNS SANs. */
    size_t ndns;
    const char *const *ips;      /* IP SANs (numeric). */
    size_t nips;
};

/* Makes a new CA and serving certificate valid from now - 1 min for
 * `validity_s` seconds. VSG_ERR_TLS on an OpenSSL failure. */
enum vsg_err vsg_certs_generate(const struct vsg_certs_names *names, int64_t validity_s,
                                struct vsg_certs *out, struct vsg_error *err);

/* VSG_OK when the set parses, the key matches the certificate, the CA
 * signed it, it names every SAN of `names`, and at least a third of its
 * lifetime is left at `now` (seconds since the epoch; 0: the lifetime is
 * not checked); else the reason in `err` (VSG_ERR_TLS, VSG_ERR_INVAL, or
 * VSG_ERR_TIMEOUT when it expires soon). *rotate_at (may be NULL) gets
 * the time it should be replaced. */
enum vsg_err vsg_certs_check(const struct vsg_certs *c, const struct vsg_certs_names *names,
                             int64_t now, int64_t *rotate_at, struct vsg_error *err);

/* When the set stops being valid (seconds since the epoch): the earlier
 * notAfter of the CA and the serving certificate; 0 when either does not
 * parse. */
int64_t vsg_certs_expiry(const struct vsg_certs *c);

/* Frees the strings; the struct may be reused. */
void vsg_certs_cleanup(struct vsg_certs *c);

/* Base64 of `len` bytes, a new NUL-terminated string (vsg_free()), or NULL. */
char *vsg_base64_encode(const void *data, size_t len);

/* Decodes base64 text into a new NUL-terminated buffer (vsg_free()), its
 * length in *len; NULL when invalid or out of memory. */
char *vsg_base64_decode(const char *text, size_t *len);

#endif
