/*
 * webhook/certs.c - see certs.h.
 */
#include "webhook/certs.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/mem.h"

static enum vsg_err tls_fail(struct vsg_error *err, const char *what)
{
    return vsg_error_set(err, VSG_ERR_TLS, "certificates: %s failed", what);
}

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

static int set_serial(X509 *x)
{
    unsigned char b[16];
    BIGNUM *bn = NULL;
    int ok = 0;
    if (RAND_bytes(b, sizeof b) != 1) return 0;
    b[0] &= 0x7F;
    if ((bn = BN_bin2bn(b, sizeof b, NULL)) &&
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        ok = 1;
    BN_free(bn);
    return ok;
}

static int add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e) return 0;
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

static X509 *new_cert(const char *cn, EVP_PKEY *pub, int64_t validity_s)
{
    X509 *x = X509_new();
    if (!x) return NULL;
    X509_NAME *n = X509_get_subject_name(x);
    if (X509_set_version(x, 2) != 1 || !set_serial(x) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)validity_s) ||
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"vsgate", -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) !=
            1 ||
        X509_set_pubkey(x, pub) != 1) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static char *pem_of(int (*write)(BIO *, void *), void *obj)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    if (!b) return NULL;
    if (write(b, obj) == 1) {
        long n = BIO_get_mem_data(b, &data);
        if (n > 0) out = vsg_strndup(data, (size_t)n);
    }
    BIO_free(b);
    return out;
}

static int w_cert(BIO *b, void *x)
{
    return PEM_write_bio_X509(b, x);
}

static int w_key(BIO *b, void *k)
{
    return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

enum vsg_err vsg_certs_generate(const struct vsg_certs_names *names, int64_t validity_s,
                                struct vsg_certs *out, struct vsg_error *err)
{
    EVP_PKEY *cakey = NULL, *key = NULL;
    X509 *ca = NULL, *x = NULL;
    enum vsg_err rc = VSG_ERR_TLS;
    char san[4096];
    size_t off = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < names->ndns && off < sizeof san; i++)
        off += (size_t)snprintf(san + off, sizeof san - off, "%sDNS:%s", off ? "," : "",
                                names->dns[i]);
    for (size_t i = 0; i < names->nips && off < sizeof san; i++)
        off += (size_t)snprintf(san + off, sizeof san - off, "%sIP:%s", off ? "," : "",
                                names->ips[i]);
    if (off >= sizeof san) return vsg_error_set(err, VSG_ERR_INVAL, "certificates: too many SANs");
    if (!(cakey = new_key()) || !(key = new_key())) {
        tls_fail(err, "EC key generation");
        goto done;
    }
    if (!(ca = new_cert("vsgate-webhook-ca", cakey, validity_s)) ||
        X509_set_issuer_name(ca, X509_get_subject_name(ca)) != 1 ||
        !add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,digitalSignature,cRLSign") ||
        !add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
        X509_sign(ca, cakey, EVP_sha256()) <= 0) {
        tls_fail(err, "making the CA");
        goto done;
    }
    if (!(x = new_cert(names->cn, key, validity_s)) ||
        X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
        !add_ext(ca, x, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(ca, x, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
        !add_ext(ca, x, NID_ext_key_usage, "serverAuth") ||
        (off && !add_ext(ca, x, NID_subject_alt_name, san)) ||
        X509_sign(x, cakey, EVP_sha256()) <= 0) {
        tls_fail(err, "making the serving certificate");
        goto done;
    }
    out->ca_pem = pem_of(w_cert, ca);
    out->cert_pem = pem_of(w_cert, x);
    out->key_pem = pem_of(w_key, key);
    if (!out->ca_pem || !out->cert_pem || !out->key_pem) {
        vsg_certs_cleanup(out);
        tls_fail(err, "writing PEM");
        goto done;
    }
    rc = VSG_OK;
done:
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(cakey);
    return rc;
}

static X509 *read_cert(const char *pem)
{
    BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static EVP_PKEY *read_key(const char *pem)
{
    BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

static int64_t asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return (int64_t)timegm(&tm);
}

enum vsg_err vsg_certs_check(const struct vsg_certs *c, const struct vsg_certs_names *names,
                             int64_t now, int64_t *rotate_at, struct vsg_error *err)
{
    X509 *ca = read_cert(c->ca_pem), *x = read_cert(c->cert_pem);
    EVP_PKEY *key = read_key(c->key_pem), *capub = NULL;
    enum vsg_err rc = VSG_OK;
    if (!ca || !x || !key) {
        rc = vsg_error_set(err, VSG_ERR_TLS, "missing or unreadable %s",
                           !ca ? "ca-cert.pem" : !x ? "server-cert.pem" : "server-key.pem");
        goto done;
    }
    if (X509_check_private_key(x, key) != 1) {
        rc = vsg_error_set(err, VSG_ERR_TLS, "server-key.pem does not match server-cert.pem");
        goto done;
    }
    if (!(capub = X509_get_pubkey(ca)) || X509_verify(x, capub) != 1) {
        rc = vsg_error_set(err, VSG_ERR_TLS, "server-cert.pem is not signed by ca-cert.pem");
        goto done;
    }
    for (size_t i = 0; i < names->ndns; i++)
        if (X509_check_host(x, names->dns[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
            rc = vsg_error_set(err, VSG_ERR_INVAL, "server-cert.pem does not name %s",
                               names->dns[i]);
            goto done;
        }
    for (size_t i = 0; i < names->nips; i++)
        if (X509_check_ip_asc(x, names->ips[i], 0) != 1) {
            rc = vsg_error_set(err, VSG_ERR_INVAL, "server-cert.pem does not name IP %s",
                               names->ips[i]);
            goto done;
        }
    int64_t nb = asn1_time(X509_get0_notBefore(x)), na = asn1_time(X509_get0_notAfter(x));
    int64_t cna = asn1_time(X509_get0_notAfter(ca));
    if (cna < na) na = cna;
    int64_t at = na - (na - nb) / 3;
    if (rotate_at) *rotate_at = at;
    if (now && now >= at)
        rc = vsg_error_set(err, VSG_ERR_TIMEOUT, "the certificate %s at %lld (less than a third "
                                                 "of its validity left)",
                           now >= na ? "expired" : "expires", (long long)na);
done:
    EVP_PKEY_free(capub);
    EVP_PKEY_free(key);
    X509_free(x);
    X509_free(ca);
    return rc;
}

int64_t vsg_certs_expiry(const struct vsg_certs *c)
{
    X509 *ca = read_cert(c->ca_pem), *x = read_cert(c->cert_pem);
    int64_t at = 0;
    if (ca && x) {
        int64_t na = asn1_time(X509_get0_notAfter(x)), cna = asn1_time(X509_get0_notAfter(ca));
        at = cna < na ? cna : na;
    }
    X509_free(x);
    X509_free(ca);
    return at;
}

void vsg_certs_cleanup(struct vsg_certs *c)
{
    vsg_free(c->ca_pem);
    vsg_free(c->cert_pem);
    vsg_free(c->key_pem);
    memset(c, 0, sizeof *c);
}

char *vsg_base64_encode(const void *data, size_t len)
{
    char *out = vsg_malloc(4 * ((len + 2) / 3) + 1);
    if (!out) return NULL;
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

char *vsg_base64_decode(const char *text, size_t *len)
{
    size_t n = strlen(text);
    if (n % 4) return NULL;
    char *out = vsg_malloc(n / 4 * 3 + 1);
    if (!out) return NULL;
    int m = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
    if (m < 0) {
        vsg_free(out);
        return NULL;
    }
    if (n >= 1 && text[n - 1] == '=') m--;
    if (n >= 2 && text[n - 2] == '=') m--;
    out[m] = '\0';
    if (len) *len = (size_t)m;
    return out;
}
