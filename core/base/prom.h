/*
 * prom.h - writing the Prometheus text exposition format (version 0.0.4),
 * as every /metrics endpoint of vsgate serves it.
 *
 * Provides: vsg_prom_family() (the "# HELP" and "# TYPE" lines of a
 * metric family), vsg_prom_label() (one label pair, its value escaped),
 * vsg_prom_bucket() (which bucket a value falls in) and
 * vsg_prom_histogram() (the _bucket/_sum/_count lines of one histogram
 * series from its per-bucket counts).
 * Uses: base/buf.h. Owns nothing.
 *
 * Names and label names are the caller's constants ([a-zA-Z_][a-zA-Z0-9_]*);
 * label values are escaped here (backslash, double quote, newline), and
 * bucket bounds are printed as Go's strconv.FormatFloat(v, 'g', -1, 64)
 * prints the bounds vsgate uses ("0.005", "10", "1e-05", "60000"), so
 * that series look as Knative's Prometheus exporter writes them.
 * Like every vsg_buf writer, a failure (VSG_ERR_TOOBIG, VSG_ERR_NOMEM)
 * leaves the buffer's earlier contents intact; callers chain the calls
 * and check once.
 */
#ifndef VSG_BASE_PROM_H
#define VSG_BASE_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Appends "# HELP <name> <help>\n# TYPE <name> <type>\n"; `type` is
 * "counter", "gauge" or "histogram". */
enum vsg_err vsg_prom_family(struct vsg_buf *b, const char *name, const char *type, const char *help);

/* Appends `name="value"`, preceded by a comma when `comma` is nonzero;
 * NULL `value` is "". */
enum vsg_err vsg_prom_label(struct vsg_buf *b, int comma, const char *name, const char *value);

/* The index of the first of the `n` ascending `bounds` that is >= v, or
 * n (the +Inf bucket). */
size_t vsg_prom_bucket(const double *bounds, size_t n, double v);

/*
 * Appends the lines of one histogram series: `<name>_bucket{<labels>,le="b"}`
 * for every bound and "+Inf" with cumulative counts, `<name>_sum{<labels>}`
 * and `<name>_count{<labels>}`. `labels` is the pairs already rendered
 * (`a="x",b="y"`), or "" for none; `counts` holds n + 1 per-bucket
 * (not cumulative) counts, the last one beyond the largest bound.
 */
enum vsg_err vsg_prom_histogram(struct vsg_buf *b, const char *name, const char *labels,
                                const double *bounds, size_t n, const uint64_t *counts, double sum);

#endif
