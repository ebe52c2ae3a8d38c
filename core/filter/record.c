/*
 * filter/record.c - recorded events (see record.h).
 */
#include "filter/record.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>

#include "base/buf.h"
#include "base/mem.h"

/* The context attributes a record carries (besides specversion). */
static const char *const attrs[] = {
    "id", "source", "type", "time", "datacontenttype", "dataschema", "subject", NULL,
};

/* ====================================================================
 * Writing
 * ==================================================================== */

/* Appends ,"name":"value" (value JSON-escaped). */
static enum vsg_err member(struct vsg_buf *b, const char *name, const char *value)
{
    enum vsg_err rc = vsg_buf_putc(b, ',');
    if (rc == VSG_OK) rc = vsg_buf_append_json_string(b, name);
    if (rc == VSG_OK) rc = vsg_buf_putc(b, ':');
    if (rc == VSG_OK) rc = vsg_buf_append_json_string(b, value);
    return rc;
}

/* Appends the element at `node` as XML text (a JSON string), with the
 * namespaces it uses declared on it. */
static enum vsg_err dump_node(const xmlNode *node, struct vsg_buf *b)
{
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *copy = doc ? xmlDocCopyNode((xmlNode *)node, doc, 1) : NULL;
    xmlBuffer *xb = NULL;
    enum vsg_err rc = VSG_ERR_NOMEM;

    if (copy == NULL) goto done;
    xmlDocSetRootElement(doc, copy);
    if ((xb = xmlBufferCreate()) == NULL || xmlNodeDump(xb, doc, copy, 0, 0) < 0) goto done;
    rc = vsg_buf_append_json_stringn(b, (const char *)xmlBufferContent(xb),
                                     (size_t)xmlBufferLength(xb));
done:
    if (xb) xmlBufferFree(xb);
    if (doc) xmlFreeDoc(doc);
    return rc;
}

enum vsg_err vsg_record_write(FILE *f, const xmlNode *node, const struct vsg_event *ev,
                              const struct vsg_ce *ce, struct vsg_error *err)
{
    struct vsg_buf b;
    enum vsg_err rc;

    vsg_buf_init(&b, VSG_RECORD_MAX_LINE);
    rc = vsg_buf_puts(&b, "{\"specversion\":\"1.0\"");
    for (const char *const *a = attrs; rc == VSG_OK && *a; a++) {
        const char *v = vsg_ce_get(ce, *a);
        if (v != NULL) rc = member(&b, *a, v);
    }
    for (size_t i = 0; rc == VSG_OK && i < ce->n_ext; i++)
        rc = member(&b, ce->ext[i].name, ce->ext[i].value);
    if (rc == VSG_OK) rc = vsg_buf_puts(&b, ",\"data\":");
    if (rc == VSG_OK) rc = vsg_event_encode_json(ev, &b);
    if (rc == VSG_OK && node != NULL) {
        rc = vsg_buf_puts(&b, ",\"soap\":");
        if (rc == VSG_OK) rc = dump_node(node, &b);
    }
    if (rc == VSG_OK) rc = vsg_buf_puts(&b, "}\n");
    if (rc != VSG_OK) {
        vsg_error_set(err, rc, "record of event %s: %s", ce->id ? ce->id : "?", vsg_strerror(rc));
    } else if (fwrite(b.data, 1, b.len, f) != b.len || fflush(f) != 0) {
        rc = vsg_error_set(err, VSG_ERR_IO, "writing the event record failed");
    }
    vsg_buf_cleanup(&b);
    return rc;
}

/* ====================================================================
 * Reading
 * ==================================================================== */

/* A JSON value as a generic tree node (`out` is a NULL slot). */
static enum vsg_err from_json(const cJSON *j, struct vsg_value *out, int depth)
{
    enum vsg_err rc = VSG_OK;

    if (depth > 64) return VSG_ERR_TOOBIG;
    if (cJSON_IsBool(j)) {
        out->kind = VSG_VALUE_BOOL;
        out->u.b = cJSON_IsTrue(j);
    } else if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        if (floor(d) == d && fabs(d) < 9007199254740992.0) {
            out->kind = VSG_VALUE_INT;
            out->bits = 64;
            out->u.i = (int64_t)d;
        } else {
            out->kind = VSG_VALUE_DOUBLE;
            out->bits = 64;
            out->u.d = d;
        }
    } else if (cJSON_IsString(j)) {
        rc = vsg_value_set_string(out, j->valuestring, strlen(j->valuestring));
    } else if (cJSON_IsArray(j)) {
        const cJSON *it;
        vsg_value_set_array(out);
        cJSON_ArrayForEach(it, j) {
            struct vsg_value *slot;
            if ((rc = vsg_value_append(out, NULL, &slot)) != VSG_OK ||
                (rc = from_json(it, slot, depth + 1)) != VSG_OK)
                break;
        }
    } else if (cJSON_IsObject(j)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "Type");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "Value");
        const cJSON *it;
        if (cJSON_GetArraySize(j) == 2 && cJSON_IsString(t) && cJSON_IsString(v)) {
            out->kind = VSG_VALUE_MOREF;
            out->u.moref.type = vsg_strdup(t->valuestring);
            out->u.moref.value = vsg_strdup(v->valuestring);
            return out->u.moref.type && out->u.moref.value ? VSG_OK : VSG_ERR_NOMEM;
        }
        if ((rc = vsg_value_set_object(out, NULL)) != VSG_OK) return rc;
        cJSON_ArrayForEach(it, j) {
            struct vsg_value *slot;
            char *name = vsg_strdup(it->string ? it->string : "");
            if (name == NULL) return VSG_ERR_NOMEM;
            if (name[0] >= 'A' && name[0] <= 'Z') name[0] = (char)(name[0] - 'A' + 'a');
            rc = vsg_value_append(out, name, &slot);
            vsg_free(name);
            if (rc == VSG_OK) {
                slot->flags = VSG_VALUE_F_UNKNOWN;
                rc = from_json(it, slot, depth + 1);
            }
            if (rc != VSG_OK) break;
        }
    }
    return rc;
}

/* Decodes the "soap" member into `ev`. */
static enum vsg_err from_soap(const char *xml, struct vsg_event *ev, struct vsg_error *err)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "record.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                    XML_PARSE_NOCDATA);
    enum vsg_err rc;

    if (doc == NULL) return vsg_error_set(err, VSG_ERR_PARSE, "record: \"soap\" is not XML");
    rc = vsg_event_decode(xmlDocGetRootElement(doc), NULL, ev, err);
    xmlFreeDoc(doc);
    return rc;
}

/* Rebuilds `ev` from the "data" object, generically. */
static enum vsg_err from_data(const cJSON *data, const char *type, struct vsg_event *ev,
                              struct vsg_error *err)
{
    static const char prefix[] = "com.vmware.vsphere.", suffix[] = ".v0";
    size_t n = type ? strlen(type) : 0, pl = sizeof prefix - 1, sl = sizeof suffix - 1;
    enum vsg_err rc;

    if (n > pl + sl && strncmp(type, prefix, pl) == 0 && strcmp(type + n - sl, suffix) == 0)
        ev->class_name = vsg_strndup(type + pl, n - pl - sl);
    else
        ev->class_name = vsg_strdup("Event");
    if (ev->class_name == NULL) return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    memset(&ev->root, 0, sizeof ev->root);
    rc = from_json(data, &ev->root, 0);
    if (rc == VSG_OK && ev->root.kind == VSG_VALUE_OBJECT) {
        /* Name the root after the class (XML root element). */
        char *t = vsg_strdup(ev->class_name);
        if (t == NULL) return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        vsg_free(ev->root.u.list.type);
        ev->root.u.list.type = t;
    }
    if (rc == VSG_OK) rc = vsg_event_refresh(ev);
    if (rc != VSG_OK) return vsg_error_set(err, rc, "record: cannot rebuild the event from \"data\"");
    return VSG_OK;
}

enum vsg_err vsg_record_read(const char *line, size_t len, struct vsg_event *ev,
                             struct vsg_ce *ce, struct vsg_error *err)
{
    cJSON *root = cJSON_ParseWithLength(line, len);
    const cJSON *it, *data = NULL, *soap = NULL;
    struct vsg_buf b;
    enum vsg_err rc = VSG_OK;

    memset(ev, 0, sizeof *ev);
    vsg_buf_init(&b, VSG_RECORD_MAX_LINE);
    if (!cJSON_IsObject(root)) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "record: not a JSON object");
        goto done;
    }
    cJSON_ArrayForEach(it, root) {
        const char *k = it->string ? it->string : "";
        int attr = 0;
        if (strcmp(k, "data") == 0) {
            data = it;
            continue;
        }
        if (strcmp(k, "soap") == 0) {
            soap = it;
            continue;
        }
        if (!cJSON_IsString(it)) {
            rc = vsg_error_set(err, VSG_ERR_PARSE, "record: member \"%s\" is not a string", k);
            goto done;
        }
        if (strcmp(k, "specversion") == 0) continue;
        for (const char *const *a = attrs; *a && !attr; a++) attr = strcmp(k, *a) == 0;
        rc = attr ? vsg_ce_set(ce, k, it->valuestring, err)
                  : vsg_ce_set_ext(ce, k, it->valuestring, err);
        if (rc != VSG_OK) goto done;
    }
    if ((rc = vsg_ce_validate(ce, err)) != VSG_OK) goto done;
    if (cJSON_IsString(soap)) {
        rc = from_soap(soap->valuestring, ev, err);
    } else if (cJSON_IsObject(data)) {
        rc = from_data(data, ce->type, ev, err);
    } else {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "record: no \"soap\" nor \"data\" object");
    }
    if (rc != VSG_OK) goto done;
    {
        const char *ct = ce->datacontenttype;
        int xml = ct != NULL && strncmp(ct, "application/xml", 15) == 0;
        rc = xml ? vsg_event_encode_xml(ev, &b) : vsg_event_encode_json(ev, &b);
        if (rc == VSG_OK) rc = vsg_ce_set_data(ce, b.data, b.len);
        if (rc != VSG_OK) vsg_error_set(err, rc, "record: encoding the payload failed");
    }
done:
    if (rc != VSG_OK) vsg_event_cleanup(ev);
    vsg_buf_cleanup(&b);
    cJSON_Delete(root);
    return rc;
}
