/*
 * cloudevents/overrides.h - the K_CE_OVERRIDES contract of Knative sources:
 * extensions set on (or overwriting those of) every event sent.
 *
 * Provides: struct vsg_ce_overrides, vsg_ce_overrides_parse() for the
 * env value `{"extensions":{"name":"value",...}}`, and
 * vsg_ce_overrides_apply().
 * Uses: cJSON, cloudevents/event.h.
 * Owns: the struct owns copies of every name and value
 * (vsg_ce_overrides_cleanup).
 *
 * Parsing follows Knative's duckv1.CloudEventOverrides: unknown top-level
 * members are ignored, "" / "null" / absent "extensions" mean none. Names
 * are checked as the Knative webhook does (non-empty, a-z0-9 only, at most
 * 20 characters) and must not be a reserved context attribute.
 */
#ifndef VSG_CLOUDEVENTS_OVERRIDES_H
#define VSG_CLOUDEVENTS_OVERRIDES_H

#include <stddef.h>

#include "base/err.h"
#include "cloudevents/event.h"

struct vsg_ce_overrides {
    struct vsg_ce_ext *ext; /* Extensions in document order, owned. */
    size_t n_ext;           /* How many. */
};

/* Makes `o` empty. */
void vsg_ce_overrides_init(struct vsg_ce_overrides *o);

/* Frees what `o` holds; it is then empty. NULL is a no-op. */
void vsg_ce_overrides_cleanup(struct vsg_ce_overrides *o);

/*
 * Parses `json` (the K_CE_OVERRIDES value; NULL or blank means none) into
 * `o` (initialised; replaced on success, untouched on failure).
 * VSG_ERR_PARSE for invalid JSON or a non-object where an object belongs;
 * VSG_ERR_INVAL for a non-string value or an invalid extension name; the
 * message names the offending member.
 */
enum vsg_err vsg_ce_overrides_parse(const char *json, struct vsg_ce_overrides *o,
                                    struct vsg_error *err);

/* Sets every override extension on `ce`, overwriting existing values. */
enum vsg_err vsg_ce_overrides_apply(const struct vsg_ce_overrides *o, struct vsg_ce *ce,
                                    struct vsg_error *err);

#endif
