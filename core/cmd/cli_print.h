/*
 * cmd/cli_print.h - the -o json / -o yaml printers of the kubectl-like
 * command line.
 *
 * Provides: vsg_cli_print_json() (Go's json.MarshalIndent(v, "", "    ")
 * plus a newline) and vsg_cli_print_yaml() (what kubectl -o yaml prints:
 * sigs.k8s.io/yaml, i.e. go-yaml v2 marshalling the decoded JSON).
 * Uses: cJSON, libyaml (emitter API), base/.
 * Owns: nothing; `v` is only read and the output goes to `out`.
 *
 * JSON: object members in their order (duplicates kept), 4-space indent,
 * `{}` and `[]` when empty, strings escaped as Go does (<, >, & as \u003c
 * \u003e \u0026, U+2028/U+2029 escaped, \b \f \n \r \t, other controls as
 * \u00XX, each invalid UTF-8 byte as \ufffd). Numbers: integral values
 * below 1e21 without decimals, others the shortest round-trip digits in
 * Go's format (1.5, 1e-7, 1e+21). NaN/Inf (not JSON) print as null.
 *
 * YAML: block style, 2-space indent, sequences in mappings not indented,
 * mapping keys in go-yaml's order (byte order, except that non-letters sort
 * before letters and digit runs compare as numbers: "a9" < "a10"; letters
 * beyond ASCII are classified approximately), duplicate keys collapse to
 * the last one (as Go's decoding into a map does). Strings are plain
 * unless they would read back as something else (true, no, 300, 1.5, null,
 * "", 2024-01-15, 1:20, ...: double quoted) or plain cannot hold them
 * (': ', ' #', leading/trailing spaces, leading indicators: single quoted
 * by the emitter); strings with a newline are literal blocks (| |- |+).
 * Non-integral numbers print as Go's %g of float64 (1.5, 1.2345675e+06).
 * Invalid UTF-8 bytes become U+FFFD first, as Go's JSON step does. Unlike
 * go-yaml v2 (which folds long plain scalars at 80 columns) lines are
 * never folded.
 */
#ifndef VSG_CMD_CLI_PRINT_H
#define VSG_CMD_CLI_PRINT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/err.h"

/* Writes `v` as indented JSON plus a newline to `out` (and flushes it).
 * VSG_ERR_INVAL when an argument is NULL, VSG_ERR_NOMEM, VSG_ERR_IO when
 * writing fails. Nothing is written unless the whole text was built. */
enum vsg_err vsg_cli_print_json(FILE *out, const cJSON *v);

/* Writes `v` as one YAML document (no "---", no "...") to `out` (and
 * flushes it). Errors as for vsg_cli_print_json(); VSG_ERR_INTERNAL if
 * libyaml rejects an event. */
enum vsg_err vsg_cli_print_yaml(FILE *out, const cJSON *v);

#endif
