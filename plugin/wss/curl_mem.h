/*
 * curl_mem.h -- libcurl's memory functions in the WSS plugin: every block
 * libcurl frees is wiped first.  Internal to the WSS plugin.  Prefix
 * wss_curl_mem_.
 *
 * Why: libcurl keeps copies of a proxy password (the option's copy, its
 * connection's, the "user:password" it encodes, the Basic credentials,
 * the CONNECT request it builds) and frees them as any other block, so
 * they stayed readable in freed heap after the plugin had wiped its own.
 * With these functions nothing libcurl frees keeps its bytes; a block
 * libcurl grows moves to a new one and the old is wiped.  libcurl is off
 * the data path once a link is up (stream.h), so this costs the dial only
 * (and every call through an https:// proxy, where libcurl stays).
 *
 * libcurl takes memory functions only from the call that sets it up
 * first in a process (curl_global_init_mem).  A host that set libcurl up
 * before it loaded the plugin keeps its own: wss_curl_mem_wipes() then
 * says 0, and a dial that gives libcurl a proxy password warns that
 * libcurl's copies are not wiped.
 */
#ifndef PT_WSS_CURL_MEM_H
#define PT_WSS_CURL_MEM_H

#include <curl/curl.h>

/* curl_global_init(CURL_GLOBAL_DEFAULT) with the wiping functions. */
CURLcode wss_curl_mem_init(void);

/* Whether libcurl uses the wiping functions (after wss_curl_mem_init). */
int wss_curl_mem_wipes(void);

#endif
