/*
 * webhook/secret.c - the serving certificates: the names they carry,
 * Secret vsphere-webhook-certs created, reused and rotated (while leading)
 * or read, and the TLS reload when they change (see webhook.h and internal.h).
 */
#include "webhook/internal.h"

#include "base/log.h"
#include "base/mem.h"
#include "kube/informer.h"

/* ====================================================================
 * Names of the serving certificate
 * ==================================================================== */

struct names_buf {
    char dns[4][256];
    const char *dnsp[5];
    const char *ips[1];
    char cn[256];
    struct vsg_certs_names n;
};

static void make_names(struct vsg_webhook *wh, struct names_buf *b)
{
    const char *ns = wh->system_ns, *svc = wh->service;
    snprintf(b->dns[0], sizeof b->dns[0], "%s", svc);
    snprintf(b->dns[1], sizeof b->dns[1], "%s.%s", svc, ns);
    snprintf(b->dns[2], sizeof b->dns[2], "%s.%s.svc", svc, ns);
    snprintf(b->dns[3], sizeof b->dns[3], "%s.%s.svc.cluster.local", svc, ns);
    snprintf(b->cn, sizeof b->cn, "%s.%s.svc", svc, ns);
    for (int i = 0; i < 4; i++) b->dnsp[i] = b->dns[i];
    b->n.cn = b->cn;
    b->n.dns = b->dnsp;
    b->n.ndns = 4;
    b->n.ips = b->ips;
    b->n.nips = 0;
    if (wh->url_base) {
        b->dnsp[4] = "localhost";
        b->n.ndns = 5;
        b->ips[0] = "127.0.0.1";
        b->n.nips = 1;
    }
}

/* ====================================================================
 * Certificates (Secret vsphere-webhook-certs)
 * ==================================================================== */

static const char *const secret_keys[] = {"ca-cert.pem", "server-cert.pem", "server-key.pem"};

static char **cert_field(struct vsg_certs *c, int i)
{
    return i == 0 ? &c->ca_pem : i == 1 ? &c->cert_pem : &c->key_pem;
}

static void certs_of_secret(const cJSON *sec, struct vsg_certs *out)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(sec, "data");
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 3; i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, secret_keys[i]));
        if (v) *cert_field(out, i) = vsg_base64_decode(v, NULL);
    }
}

/* The leader's part: reads the Secret; when its certificates are missing,
 * invalid or expire soon, makes new ones and writes them. *out gets the
 * set to serve (empty when a peer wrote the Secret meanwhile). */
static enum vsg_err ensure_certs(struct vsg_webhook *wh, struct vsg_certs *out, struct vsg_error *err)
{
    struct names_buf nb;
    struct vsg_buf p;
    cJSON *sec = NULL;
    struct vsg_error why;
    enum vsg_err rc;
    make_names(wh, &nb);
    vsg_buf_init(&p, 4096);
    (void)vsg_kube_path(&p, "v1", wh->system_ns, "secrets", VSG_WH_SECRET, NULL);
    rc = vsg_kube_get(wh->client, p.data, &sec, err);
    if (rc != VSG_OK && rc != VSG_ERR_NOTFOUND) goto done;
    certs_of_secret(sec, out);
    int64_t now = (int64_t)time(NULL);
    if (vsg_certs_check(out, &nb.n, now, NULL, &why) == VSG_OK) {
        rc = VSG_OK;
        goto done;
    }
    VSG_LOG_INFO(LOGGER, "Secret %s/%s: %s: issuing new certificates", wh->system_ns, VSG_WH_SECRET,
                 why.msg);
    vsg_certs_cleanup(out);
    int64_t validity = wh->o.cert_validity_s > 0 ? wh->o.cert_validity_s : 7 * 24 * 3600;
    if ((rc = vsg_certs_generate(&nb.n, validity, out, err)) != VSG_OK) goto done;
    wh->n_rotations++;
    int create = !sec, built = 1;
    if (create) {
        cJSON *md = NULL;
        built = (sec = cJSON_CreateObject()) && (md = cJSON_AddObjectToObject(sec, "metadata")) &&
                cJSON_AddStringToObject(sec, "apiVersion", "v1") &&
                cJSON_AddStringToObject(sec, "kind", "Secret") &&
                cJSON_AddStringToObject(md, "name", VSG_WH_SECRET) &&
                cJSON_AddStringToObject(md, "namespace", wh->system_ns);
    }
    cJSON *data = built ? cJSON_GetObjectItemCaseSensitive(sec, "data") : NULL;
    if (built && !cJSON_IsObject(data)) {
        cJSON_DeleteItemFromObjectCaseSensitive(sec, "data");
        built = (data = cJSON_AddObjectToObject(sec, "data")) != NULL;
    }
    for (int i = 0; built && i < 3; i++) {
        char *v = vsg_base64_encode(*cert_field(out, i), strlen(*cert_field(out, i)));
        cJSON_DeleteItemFromObjectCaseSensitive(data, secret_keys[i]);
        built = v && cJSON_AddStringToObject(data, secret_keys[i], v);
        vsg_free(v);
    }
    if (!built) {
        /* Never a Secret with a key missing: nothing is written, the next
         * pass tries again. */
        vsg_certs_cleanup(out);
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "Secret %s/%s: out of memory building it", wh->system_ns,
                           VSG_WH_SECRET);
        goto done;
    }
    if (create) {
        vsg_buf_reset(&p);
        (void)vsg_kube_path(&p, "v1", wh->system_ns, "secrets", NULL, NULL);
        rc = vsg_kube_create(wh->client, p.data, sec, NULL, err);
    } else {
        rc = vsg_kube_update(wh->client, p.data, sec, NULL, err);
    }
    if (rc != VSG_OK) {
        /* Somebody else wrote it meanwhile (or no right): take theirs next time. */
        VSG_LOG_WARN(LOGGER, "writing Secret %s/%s: %s", wh->system_ns, VSG_WH_SECRET, err->msg);
        if (rc == VSG_ERR_CONFLICT) {
            vsg_certs_cleanup(out);
            rc = VSG_OK;
            goto done;
        }
        rc = VSG_OK; /* Serve the new ones anyway. */
    }
done:
    cJSON_Delete(sec);
    vsg_buf_cleanup(&p);
    return rc;
}

/* The other replicas' part: the Secret as the informer has it, when its
 * certificates are usable (valid, naming this webhook, not expired: one
 * due for rotation is the leader's business). *out empty otherwise, with
 * the reason in `why`. */
static void read_certs(struct vsg_webhook *wh, struct vsg_certs *out, struct vsg_error *why)
{
    struct names_buf nb;
    cJSON *sec = vsg_kube_cache_get(vsg_kube_informer_cache(wh->secinf), wh->system_ns, VSG_WH_SECRET);
    make_names(wh, &nb);
    vsg_error_clear(why);
    certs_of_secret(sec, out);
    cJSON_Delete(sec);
    if (vsg_certs_check(out, &nb.n, 0, NULL, why) != VSG_OK) {
        vsg_certs_cleanup(out);
    } else if (vsg_certs_expiry(out) <= (int64_t)time(NULL)) {
        vsg_error_set(why, VSG_ERR_TIMEOUT, "the certificate has expired");
        vsg_certs_cleanup(out);
    }
}

static int same_certs(const struct vsg_certs *a, const struct vsg_certs *b)
{
    return a->cert_pem && b->cert_pem && strcmp(a->cert_pem, b->cert_pem) == 0 && a->key_pem &&
           b->key_pem && strcmp(a->key_pem, b->key_pem) == 0 && a->ca_pem && b->ca_pem &&
           strcmp(a->ca_pem, b->ca_pem) == 0;
}

/* The certificates to serve: made or checked by the leader, read by the
 * others. VSG_OK with *out empty when there are none yet. */
enum vsg_err vsg__wh_current_certs(struct vsg_webhook *wh, int lead, struct vsg_certs *out,
                                  struct vsg_error *err)
{
    struct vsg_error why;
    memset(out, 0, sizeof *out);
    if (lead) {
        enum vsg_err rc = ensure_certs(wh, out, err);
        if (rc != VSG_OK) vsg_certs_cleanup(out);
        return rc;
    }
    read_certs(wh, out, &why);
    char msg[VSG_ERROR_MSG_MAX + 128];
    snprintf(msg, sizeof msg, "Secret %s/%s: %s (not the leader: waiting for the leader to write it)",
             wh->system_ns, VSG_WH_SECRET, why.msg);
    vsg__wh_log_changed(&wh->certs_why, out->cert_pem ? NULL : msg);
    return VSG_OK;
}

/* One pass over the certificates: the set to serve, and a TLS reload when
 * it changed. */
void vsg__wh_cert_pass(struct vsg_webhook *wh, int lead)
{
    struct vsg_certs c;
    struct vsg_error err;
    if (vsg__wh_current_certs(wh, lead, &c, &err) != VSG_OK) {
        VSG_LOG_WARN(LOGGER, "certificates: %s (retrying)", err.msg);
        return;
    }
    if (!c.cert_pem) return; /* Lost a race, or not written yet: next pass. */
    if (same_certs(&c, &wh->certs)) {
        vsg_certs_cleanup(&c);
        return;
    }
    if (vsg_http_server_reload_tls(wh->srv, c.cert_pem, c.key_pem, &err) != VSG_OK) {
        VSG_LOG_ERROR(LOGGER, "reloading the serving certificate: %s", err.msg);
        vsg_certs_cleanup(&c);
        return;
    }
    VSG_LOG_INFO(LOGGER, "serving a new certificate");
    pthread_mutex_lock(&wh->cmu);
    vsg_certs_cleanup(&wh->certs);
    wh->certs = c;
    pthread_mutex_unlock(&wh->cmu);
}

