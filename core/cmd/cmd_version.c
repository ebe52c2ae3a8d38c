/*
 * cmd_version.c - `vsgate version`: version, git revision, build date and
 * the versions of the libraries the binary is linked with (as reported by
 * the libraries at run time, not the headers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <lua.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "cmd/cmd.h"

int vsg_cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: vsgate version\n");
        return 0;
    }
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    printf("vsgate %s\n", VSG_VERSION);
    printf("git revision: %s\n", VSG_GIT_REV);
    printf("build date:   %s\n", VSG_BUILD_DATE);
    printf("lua:          %s\n", LUA_RELEASE);
    printf("libcurl:      %s\n", cv->version);
    int xv = atoi(xmlParserVersion); /* e.g. "20914" for 2.9.14 */
    printf("libxml2:      %d.%d.%d\n", xv / 10000, (xv / 100) % 100, xv % 100);
    printf("cJSON:        %s\n", cJSON_Version());
    printf("OpenSSL:      %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("libmicrohttpd: %s\n", MHD_get_version());
    printf("libyaml:      %s\n", yaml_get_version_string());
    return 0;
}
