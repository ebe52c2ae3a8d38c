/*
 * base/prom.c - see prom.h.
 */
#include "base/prom.h"

#include <stdio.h>

enum vsg_err vsg_prom_family(struct vsg_buf *b, const char *name, const char *type, const char *help)
{
    return vsg_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum vsg_err vsg_prom_label(struct vsg_buf *b, int comma, const char *name, const char *value)
{
    size_t keep = b->len;
    enum vsg_err rc = vsg_buf_printf(b, "%s%s=\"", comma ? "," : "", name);
    for (const char *p = value ? value : ""; rc == VSG_OK && *p; p++) {
        if (*p == '\\') rc = vsg_buf_puts(b, "\\\\");
        else if (*p == '"') rc = vsg_buf_puts(b, "\\\"");
        else if (*p == '\n') rc = vsg_buf_puts(b, "\\n");
        else rc = vsg_buf_putc(b, *p);
    }
    if (rc == VSG_OK) rc = vsg_buf_putc(b, '"');
    if (rc != VSG_OK) vsg_buf_truncate(b, keep);
    return rc;
}

size_t vsg_prom_bucket(const double *bounds, size_t n, double v)
{
    size_t i = 0;
    while (i < n && v > bounds[i]) i++;
    return i;
}

enum vsg_err vsg_prom_histogram(struct vsg_buf *b, const char *name, const char *labels,
                                const double *bounds, size_t n, const uint64_t *counts, double sum)
{
    const char *sep = labels && *labels ? "," : "";
    enum vsg_err rc = VSG_OK;
    uint64_t cum = 0;
    if (!labels) labels = "";
    for (size_t i = 0; i < n && rc == VSG_OK; i++) {
        cum += counts[i];
        rc = vsg_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i],
                            (unsigned long long)cum);
    }
    cum += counts[n];
    if (rc == VSG_OK)
        rc = vsg_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";
    if (rc == VSG_OK) rc = vsg_buf_printf(b, "%s_sum%s%s%s %.9g\n", name, open, labels, close, sum);
    if (rc == VSG_OK)
        rc = vsg_buf_printf(b, "%s_count%s%s%s %llu\n", name, open, labels, close, (unsigned long long)cum);
    return rc;
}
