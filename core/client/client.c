/*
 * client/client.c - libvsgate's SOAP client: a soap/session.h session made
 * from the bound workload's environment, serialised by a mutex, kept alive
 * by a background thread, logged in again on NotAuthenticated; the generic
 * call and the VM listing (ContainerView + RetrievePropertiesEx).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "client/env.h"
#include "client/internal.h"
#include "soap/session.h"
#include "soap/xml.h"

/* After a failed keep-alive, wait this long (at most) before the next. */
#define KEEPALIVE_RETRY_MS 30000L
/* Largest request body the library builds. */
#define BODY_MAX ((size_t)1024 * 1024)

/* One managed object reference of ServiceContent. */
struct svc_ref {
    char *name;  /* The ServiceContent property, e.g. "viewManager". */
    char *type;  /* "ViewManager". */
    char *value; /* "ViewManager". */
};

struct vsgate_client {
    pthread_mutex_t mu;          /* Serialises every use of `s`. */
    pthread_cond_t cv;           /* Wakes the keep-alive thread (stop). */
    pthread_t ka;                /* The keep-alive thread... */
    int ka_started;              /* ...when it was started. */
    int stopping;                /* Set by close, under `mu`. */
    long keepalive_ms;           /* Interval; <= 0 when disabled. */
    struct vsg_soap_session *s;  /* The SOAP session. */
    struct svc_ref *refs;        /* ServiceContent morefs. */
    size_t nrefs;
    char *api_version;           /* about.apiVersion. */
    char *full_name;             /* about.fullName. */
};

/* ====================================================================
 * Calls with one re-login
 * ==================================================================== */

/* Logs in again (the session is presumed dead). `mu` held. */
static enum vsg_err relogin_locked(struct vsgate_client *c, struct vsg_error *e)
{
    VSG_LOG_INFO(VSG_CLIENT_LOGGER, "vCenter session lost; logging in again");
    return vsg_soap_relogin(c->s, e);
}

/* vsg_soap_call() that logs in first when the session is down, and on
 * NotAuthenticated logs in again and repeats the call once. `mu` held. */
static enum vsg_err call_locked(struct vsgate_client *c, const char *method, const char *body,
                                struct vsg_soap_result *res, struct vsg_error *e)
{
    enum vsg_err rc;
    if (!vsg_soap_logged_in(c->s) && (rc = relogin_locked(c, e)) != VSG_OK) return rc;
    rc = vsg_soap_call(c->s, method, body, res, e);
    if (rc != VSG_ERR_NOTAUTHENTICATED) return rc;
    if ((rc = relogin_locked(c, e)) != VSG_OK) return rc;
    return vsg_soap_call(c->s, method, body, res, e);
}

/* Fills the public error for an internal failure of a SOAP call. */
static vsgate_status soap_fail(struct vsgate_client *c, vsgate_error *out, enum vsg_err rc,
                               const struct vsg_error *e)
{
    const char *fault = c ? vsg_soap_last_fault(c->s) : "";
    return vsg_client_fail(out, vsg_client_status(rc), e, fault, 0);
}

/* ====================================================================
 * ServiceContent
 * ==================================================================== */

static void refs_free(struct vsgate_client *c)
{
    for (size_t i = 0; i < c->nrefs; i++) {
        vsg_free(c->refs[i].name);
        vsg_free(c->refs[i].type);
        vsg_free(c->refs[i].value);
    }
    vsg_free(c->refs);
    c->refs = NULL;
    c->nrefs = 0;
}

/* Reads every moref of ServiceContent (elements with a `type`
 * attribute) and `about`. No login needed. `mu` held or not yet shared. */
static enum vsg_err read_service_content(struct vsgate_client *c, struct vsg_error *e)
{
    struct vsg_soap_result res;
    enum vsg_err rc;

    vsg_soap_result_init(&res);
    rc = vsg_soap_call(c->s, "RetrieveServiceContent",
                       "<_this type=\"ServiceInstance\">ServiceInstance</_this>", &res, e);
    if (rc != VSG_OK) return rc;
    if (!res.returnval) {
        vsg_soap_result_cleanup(&res);
        return vsg_error_set(e, VSG_ERR_PARSE, "RetrieveServiceContent: no returnval");
    }
    size_t n = 0;
    for (xmlNodePtr x = vsg_soap_first_elem(res.returnval); x; x = vsg_soap_next_elem(x)) n++;
    if (!(c->refs = vsg_calloc(n ? n : 1, sizeof *c->refs))) goto nomem;
    for (xmlNodePtr x = vsg_soap_first_elem(res.returnval); x; x = vsg_soap_next_elem(x)) {
        if (vsg_soap_is_elem(x, VSG_SOAP_NS_VIM25, "about")) {
            vsg_free(c->api_version);
            vsg_free(c->full_name);
            c->api_version = NULL;
            c->full_name = NULL;
            if (vsg_soap_child_text(x, "apiVersion", &c->api_version) == VSG_ERR_NOMEM ||
                vsg_soap_child_text(x, "fullName", &c->full_name) == VSG_ERR_NOMEM)
                goto nomem;
            continue;
        }
        xmlChar *type = xmlGetProp(x, (const xmlChar *)"type");
        if (!type) continue;
        struct svc_ref *r = &c->refs[c->nrefs];
        r->name = vsg_strdup((const char *)x->name);
        r->type = vsg_strdup((const char *)type);
        r->value = vsg_soap_text(x);
        xmlFree(type);
        c->nrefs++;
        if (!r->name || !r->type || !r->value) goto nomem;
    }
    if (!c->api_version) c->api_version = vsg_strdup("");
    if (!c->full_name) c->full_name = vsg_strdup("");
    if (!c->api_version || !c->full_name) goto nomem;
    vsg_soap_result_cleanup(&res);
    return VSG_OK;
nomem:
    vsg_soap_result_cleanup(&res);
    return vsg_error_set(e, VSG_ERR_NOMEM, "RetrieveServiceContent: out of memory");
}

static const struct svc_ref *find_ref(const struct vsgate_client *c, const char *name)
{
    for (size_t i = 0; i < c->nrefs; i++)
        if (strcmp(c->refs[i].name, name) == 0) return &c->refs[i];
    return NULL;
}

/* ====================================================================
 * Keep-alive thread
 * ==================================================================== */

/* Waits on `cv` until monotonic time `due_ms` (or a signal). `mu` held. */
static void wait_until(struct vsgate_client *c, int64_t due_ms)
{
    struct timespec ts;
    int64_t wait = due_ms - vsg_time_mono_ms();
    if (wait <= 0) return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(wait / 1000);
    ts.tv_nsec += (long)(wait % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

static void *keepalive_main(void *arg)
{
    struct vsgate_client *c = arg;
    int64_t retry_at = 0;

    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        int64_t now = vsg_time_mono_ms();
        /* Not logged in (a re-login failed): the next call logs in; the
         * thread never retries a login on its own. */
        int64_t due = vsg_soap_logged_in(c->s) ? vsg_soap_keepalive_deadline(c->s)
                                               : now + c->keepalive_ms;
        if (due < retry_at) due = retry_at;
        if (due > now) {
            wait_until(c, due);
            continue; /* Stop requested, or calls moved the deadline. */
        }
        struct vsg_error e = {0};
        VSG_LOG_DEBUG(VSG_CLIENT_LOGGER, "sending the keep-alive");
        enum vsg_err rc = vsg_soap_keepalive(c->s, now, &e);
        if (rc == VSG_ERR_NOTAUTHENTICATED) rc = relogin_locked(c, &e);
        if (rc != VSG_OK) {
            VSG_LOG_WARN(VSG_CLIENT_LOGGER, "keep-alive failed: %s", e.msg);
            retry_at = now + (c->keepalive_ms < KEEPALIVE_RETRY_MS ? c->keepalive_ms
                                                                   : KEEPALIVE_RETRY_MS);
        } else {
            retry_at = 0;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

static void client_free(struct vsgate_client *c)
{
    if (!c) return;
    vsg_soap_session_free(c->s);
    refs_free(c);
    vsg_free(c->api_version);
    vsg_free(c->full_name);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    vsg_free(c);
}

VSGATE_API vsgate_client *vsgate_client_from_env(const vsgate_options *opts,
                                                 vsgate_error *err)
{
    static const vsgate_options none;
    struct vsg_client_env env;
    struct vsg_error e = {0};
    struct vsgate_client *c = NULL;
    pthread_condattr_t ca;
    enum vsg_err rc;
    char ua[64];

    if (!opts) opts = &none;
    if (vsg_client_global_init(err) != VSGATE_OK) return NULL;
    if ((rc = vsg_client_env_read(opts->secret_path, &env, &e)) != VSG_OK) {
        vsg_client_fail(err, rc == VSG_ERR_NOMEM ? VSGATE_ENOMEM : VSGATE_ECONFIG, &e, NULL, 0);
        return NULL;
    }
    if (!(c = vsg_calloc(1, sizeof *c))) {
        vsg_client_env_cleanup(&env);
        vsg_client_fail(err, VSGATE_ENOMEM, NULL, NULL, 0);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);

    snprintf(ua, sizeof ua, "libvsgate/%s", vsgate_version());
    struct vsg_soap_opts so = {
        .url = env.url,
        .username = env.username,
        .password = env.password,
        .insecure = env.insecure,
        .extra_ca_pem = env.ca_pem,
        .user_agent = opts->user_agent ? opts->user_agent : ua,
        .timeout_ms = opts->timeout_ms,
        .keepalive_ms = opts->keepalive_ms,
    };
    c->keepalive_ms = opts->keepalive_ms == 0 ? VSG_SOAP_DEFAULT_KEEPALIVE_MS
                                              : opts->keepalive_ms;
    c->s = vsg_soap_session_new(&so, &e);
    vsg_client_env_cleanup(&env); /* The session has its own copies. */
    if (!c->s) {
        vsg_client_fail(err, e.code == VSG_ERR_NOMEM ? VSGATE_ENOMEM : VSGATE_ECONFIG, &e,
                        NULL, 0);
        goto fail;
    }
    if ((rc = vsg_soap_connect(c->s, &e)) != VSG_OK) {
        vsg_error_set(&e, rc, "logging in to %s: %s", vsg_soap_url(c->s), e.msg);
        soap_fail(c, err, rc, &e);
        goto fail;
    }
    if ((rc = read_service_content(c, &e)) != VSG_OK) {
        soap_fail(c, err, rc, &e);
        vsg_soap_logout(c->s, NULL);
        goto fail;
    }
    if (c->keepalive_ms > 0 && !opts->manual_keepalive) {
        int perr = pthread_create(&c->ka, NULL, keepalive_main, c);
        if (perr != 0) {
            vsg_error_set(&e, VSG_ERR_INTERNAL, "cannot start the keep-alive thread: %s",
                          strerror(perr));
            vsg_client_fail(err, VSGATE_EINTERNAL, &e, NULL, 0);
            vsg_soap_logout(c->s, NULL);
            goto fail;
        }
        c->ka_started = 1;
    }
    vsg_client_ok(err);
    return c;
fail:
    client_free(c);
    return NULL;
}

VSGATE_API void vsgate_client_close(vsgate_client *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->ka_started) pthread_join(c->ka, NULL);
    vsg_soap_logout(c->s, NULL);
    client_free(c);
}

VSGATE_API const char *vsgate_client_url(const vsgate_client *c)
{
    return c ? vsg_soap_url(c->s) : "";
}

VSGATE_API const char *vsgate_client_api_version(const vsgate_client *c)
{
    return c ? c->api_version : "";
}

VSGATE_API const char *vsgate_client_full_name(const vsgate_client *c)
{
    return c ? c->full_name : "";
}

VSGATE_API int vsgate_client_service_ref(const vsgate_client *c, const char *property,
                                         const char **type, const char **value)
{
    const struct svc_ref *r = c && property ? find_ref(c, property) : NULL;
    if (type) *type = r ? r->type : NULL;
    if (value) *value = r ? r->value : NULL;
    return r != NULL;
}

/* ====================================================================
 * Generic call
 * ==================================================================== */

/* The <MethodResponse> element as a standalone document: namespaces
 * declared on its ancestors (soapenv, xsi, xsd) are declared on it. */
static char *dump_response(xmlNodePtr resp)
{
    char *out = NULL;
    xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodePtr copy = d ? xmlDocCopyNode(resp, d, 1) : NULL;
    if (!d || !buf || !copy) goto out;
    xmlDocSetRootElement(d, copy);
    for (xmlNodePtr p = resp->parent; p && p->type == XML_ELEMENT_NODE; p = p->parent)
        for (xmlNsPtr ns = p->nsDef; ns; ns = ns->next)
            if (ns->prefix && !xmlSearchNs(d, copy, ns->prefix))
                xmlNewNs(copy, ns->href, ns->prefix);
    if (xmlNodeDump(buf, d, copy, 0, 0) < 0) goto out;
    out = vsg_strndup((const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
out:
    if (buf) xmlBufferFree(buf);
    if (d) xmlFreeDoc(d);
    else if (copy) xmlFreeNode(copy);
    return out;
}

VSGATE_API vsgate_status vsgate_soap_call(vsgate_client *c, const char *method,
                                          const char *body, char **response_xml,
                                          vsgate_error *err)
{
    struct vsg_soap_result res;
    struct vsg_error e = {0};
    enum vsg_err rc;
    vsgate_status st = VSGATE_OK;

    if (response_xml) *response_xml = NULL;
    if (!c || !method || !*method) {
        vsg_error_set(&e, VSG_ERR_INVAL, "vsgate_soap_call: no client or method");
        return vsg_client_fail(err, VSGATE_EINVAL, &e, NULL, 0);
    }
    vsg_soap_result_init(&res);
    pthread_mutex_lock(&c->mu);
    rc = call_locked(c, method, body ? body : "", &res, &e);
    if (rc != VSG_OK) st = soap_fail(c, err, rc, &e);
    pthread_mutex_unlock(&c->mu);
    if (st != VSGATE_OK) return st;
    if (response_xml && !(*response_xml = dump_response(res.response))) {
        vsg_soap_result_cleanup(&res);
        return vsg_client_fail(err, VSGATE_ENOMEM, NULL, NULL, 0);
    }
    vsg_soap_result_cleanup(&res);
    vsg_client_ok(err);
    return VSGATE_OK;
}

VSGATE_API vsgate_status vsgate_client_keepalive(vsgate_client *c, vsgate_error *err)
{
    struct vsg_soap_result res;
    struct vsg_error e = {0};
    vsgate_status st = VSGATE_OK;

    if (!c) return vsg_client_fail(err, VSGATE_EINVAL, NULL, NULL, 0);
    vsg_soap_result_init(&res);
    pthread_mutex_lock(&c->mu);
    enum vsg_err rc = call_locked(c, "CurrentTime",
                                  "<_this type=\"ServiceInstance\">ServiceInstance</_this>",
                                  &res, &e);
    if (rc != VSG_OK) st = soap_fail(c, err, rc, &e);
    pthread_mutex_unlock(&c->mu);
    vsg_soap_result_cleanup(&res);
    if (st == VSGATE_OK) vsg_client_ok(err);
    return st;
}

/* ====================================================================
 * VM listing
 * ==================================================================== */

struct vm_row {
    char *id, *name, *state;
};

struct vm_list {
    struct vm_row *rows;
    size_t n, cap;
};

static void vm_list_cleanup(struct vm_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        vsg_free(l->rows[i].id);
        vsg_free(l->rows[i].name);
        vsg_free(l->rows[i].state);
    }
    vsg_free(l->rows);
    memset(l, 0, sizeof *l);
}

/* Adds the VMs of one RetrieveResult (`rv`, may be NULL) and returns its
 * token (owned) in *token, NULL when it is the last page. */
static enum vsg_err take_page(struct vm_list *l, xmlNodePtr rv, char **token,
                              struct vsg_error *e)
{
    *token = NULL;
    if (!rv) return VSG_OK;
    for (xmlNodePtr o = vsg_soap_child(rv, "objects"); o; o = vsg_soap_next(o, "objects")) {
        struct vm_row r = {0};
        xmlNodePtr obj = vsg_soap_child(o, "obj");
        if (!obj || !(r.id = vsg_soap_text(obj))) goto nomem;
        for (xmlNodePtr p = vsg_soap_child(o, "propSet"); p; p = vsg_soap_next(p, "propSet")) {
            char *name = NULL;
            xmlNodePtr val = vsg_soap_child(p, "val");
            if (vsg_soap_child_text(p, "name", &name) != VSG_OK || !val) {
                vsg_free(name);
                continue;
            }
            char **dst = strcmp(name, "name") == 0 ? &r.name
                         : strcmp(name, "runtime.powerState") == 0 ? &r.state : NULL;
            vsg_free(name);
            if (dst && !*dst && !(*dst = vsg_soap_text(val))) goto nomem_row;
        }
        /* A VM being created may lack a property for a moment. */
        if ((!r.name && !(r.name = vsg_strdup(""))) || (!r.state && !(r.state = vsg_strdup(""))))
            goto nomem_row;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 16;
            struct vm_row *nr = vsg_realloc(l->rows, cap * sizeof *nr);
            if (!nr) goto nomem_row;
            l->rows = nr;
            l->cap = cap;
        }
        l->rows[l->n++] = r;
        continue;
    nomem_row:
        vsg_free(r.id);
        vsg_free(r.name);
        vsg_free(r.state);
        goto nomem;
    }
    enum vsg_err rc = vsg_soap_child_text(rv, "token", token);
    if (rc == VSG_ERR_NOTFOUND) return VSG_OK;
    if (rc != VSG_OK) goto nomem;
    return VSG_OK;
nomem:
    return vsg_error_set(e, VSG_ERR_NOMEM, "listing VMs: out of memory");
}

/* One attempt: CreateContainerView, every page, DestroyView. `mu` held;
 * no re-login here (the caller redoes the whole listing). */
static enum vsg_err list_once(struct vsgate_client *c, struct vm_list *l, struct vsg_error *e)
{
    const struct svc_ref *vm = find_ref(c, "viewManager");
    const struct svc_ref *pc = find_ref(c, "propertyCollector");
    const struct svc_ref *root = find_ref(c, "rootFolder");
    struct vsg_soap_moref view = {0};
    struct vsg_soap_result res;
    struct vsg_buf b;
    char *token = NULL;
    enum vsg_err rc;

    if (!vm || !pc || !root)
        return vsg_error_set(e, VSG_ERR_UNSUPPORTED,
                             "listing VMs: the server has no %s",
                             !vm ? "viewManager" : !pc ? "propertyCollector" : "rootFolder");
    vsg_soap_result_init(&res);
    vsg_buf_init(&b, BODY_MAX);
    struct vsg_soap_moref vmm = {vm->type, vm->value}, pcm = {pc->type, pc->value},
                          rootm = {root->type, root->value};
    if (vsg_soap_put_moref(&b, "_this", &vmm) != VSG_OK ||
        vsg_soap_put_moref(&b, "container", &rootm) != VSG_OK ||
        vsg_buf_puts(&b, "<type>VirtualMachine</type><recursive>true</recursive>") != VSG_OK)
        goto nomem;
    if ((rc = vsg_soap_call(c->s, "CreateContainerView", b.data, &res, e)) != VSG_OK) goto out;
    if (!res.returnval) {
        rc = vsg_error_set(e, VSG_ERR_PARSE, "CreateContainerView: no returnval");
        goto out;
    }
    if ((rc = vsg_soap_moref_parse(res.returnval, &view, e)) != VSG_OK) goto out;

    vsg_buf_reset(&b);
    if (vsg_soap_put_moref(&b, "_this", &pcm) != VSG_OK ||
        vsg_buf_puts(&b, "<specSet><propSet><type>VirtualMachine</type><all>false</all>"
                         "<pathSet>name</pathSet><pathSet>runtime.powerState</pathSet>"
                         "</propSet><objectSet>") != VSG_OK ||
        vsg_soap_put_moref(&b, "obj", &view) != VSG_OK ||
        vsg_buf_puts(&b, "<skip>true</skip><selectSet xsi:type=\"TraversalSpec\">"
                         "<name>traverseView</name><type>ContainerView</type>"
                         "<path>view</path><skip>false</skip></selectSet></objectSet>"
                         "</specSet><options/>") != VSG_OK)
        goto nomem;
    rc = vsg_soap_call(c->s, "RetrievePropertiesEx", b.data, &res, e);
    while (rc == VSG_OK) {
        vsg_free(token);
        if ((rc = take_page(l, res.returnval, &token, e)) != VSG_OK || !token) break;
        vsg_buf_reset(&b);
        if (vsg_soap_put_moref(&b, "_this", &pcm) != VSG_OK ||
            vsg_soap_put_text(&b, "token", token) != VSG_OK)
            goto nomem;
        rc = vsg_soap_call(c->s, "ContinueRetrievePropertiesEx", b.data, &res, e);
    }
out:
    if (vsg_soap_moref_valid(&view)) {
        /* Best effort: a view of a dead session died with it. */
        struct vsg_error ignored;
        vsg_buf_reset(&b);
        if (vsg_soap_put_moref(&b, "_this", &view) == VSG_OK)
            vsg_soap_call(c->s, "DestroyView", b.data, &res, &ignored);
    }
    vsg_soap_moref_cleanup(&view);
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    vsg_free(token);
    return rc;
nomem:
    rc = vsg_error_set(e, VSG_ERR_NOMEM, "listing VMs: out of memory");
    goto out;
}

VSGATE_API vsgate_status vsgate_list_vms(vsgate_client *c, vsgate_vm_fn fn, void *ud,
                                         vsgate_error *err)
{
    struct vm_list l = {0};
    struct vsg_error e = {0};
    enum vsg_err rc = VSG_OK;
    vsgate_status st = VSGATE_OK;

    if (!c || !fn) {
        vsg_error_set(&e, VSG_ERR_INVAL, "vsgate_list_vms: no client or callback");
        return vsg_client_fail(err, VSGATE_EINVAL, &e, NULL, 0);
    }
    pthread_mutex_lock(&c->mu);
    if (!vsg_soap_logged_in(c->s)) rc = relogin_locked(c, &e);
    if (rc == VSG_OK) {
        rc = list_once(c, &l, &e);
        if (rc == VSG_ERR_NOTAUTHENTICATED) {
            vm_list_cleanup(&l);
            if ((rc = relogin_locked(c, &e)) == VSG_OK) rc = list_once(c, &l, &e);
        }
    }
    if (rc != VSG_OK) st = soap_fail(c, err, rc, &e);
    pthread_mutex_unlock(&c->mu);
    if (st == VSGATE_OK) {
        for (size_t i = 0; i < l.n; i++)
            if (fn(ud, l.rows[i].id, l.rows[i].name, l.rows[i].state) != 0) break;
        vsg_client_ok(err);
    }
    vm_list_cleanup(&l);
    return st;
}
