/*
 * test-wss-roots.c -- the pinned roots compiled into the WSS plugin reach
 * GnuTLS intact through the memfd path libcurl is given (libcurl's GnuTLS
 * backend loads CURLOPT_CAINFO with gnutls_certificate_set_x509_trust_file).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <unistd.h>

#include "roots.h"
#include "tap.h"

TEST(every_pem_in_the_set_is_compiled_in)
{
    unsigned begins = 0;
    for (const char *p = wss_pinned_roots_pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
        begins++;
    CHECK(wss_pinned_roots_count >= 1);
    CHECK_EQ_INT(begins, wss_pinned_roots_count);
    CHECK_EQ_INT(strlen(wss_pinned_roots_pem), wss_pinned_roots_len);
}

TEST(memfd_path_loads_as_a_trust_file)
{
    int fd = -1;
    char path[64], err[256];
    gnutls_certificate_credentials_t cred;
    CHECK_EQ_INT(wss_roots_memfile(&fd, path, sizeof path, err, sizeof err), 0);
    CHECK_STR_CONTAINS(path, "/proc/self/fd/");
    gnutls_certificate_allocate_credentials(&cred);
    int n = gnutls_certificate_set_x509_trust_file(cred, path, GNUTLS_X509_FMT_PEM);
    CHECK_EQ_INT(n, (int)wss_pinned_roots_count);
    gnutls_certificate_free_credentials(cred);
    close(fd);
}

TEST(memfd_is_sealed_against_writes)
{
    int fd = -1;
    char path[64], err[256];
    CHECK_EQ_INT(wss_roots_memfile(&fd, path, sizeof path, err, sizeof err), 0);
    CHECK(write(fd, "x", 1) < 0);
    CHECK(ftruncate(fd, 0) < 0);
    close(fd);
}

TEST(default_set_is_lets_encrypt)
{
    gnutls_x509_crt_t *certs = NULL;
    unsigned n = 0;
    gnutls_datum_t pem = { (unsigned char *)(uintptr_t)wss_pinned_roots_pem,
                           (unsigned)wss_pinned_roots_len };
    CHECK_EQ_INT(gnutls_x509_crt_list_import2(&certs, &n, &pem, GNUTLS_X509_FMT_PEM, 0), 0);
    CHECK_EQ_INT(n, wss_pinned_roots_count);
    int x1 = 0, x2 = 0;
    for (unsigned i = 0; i < n; i++) {
        char dn[512];
        size_t len = sizeof dn;
        if (gnutls_x509_crt_get_dn(certs[i], dn, &len) == 0) {
            x1 |= strstr(dn, "CN=ISRG Root X1") != NULL;
            x2 |= strstr(dn, "CN=ISRG Root X2") != NULL;
        }
        gnutls_x509_crt_deinit(certs[i]);
    }
    gnutls_free(certs);
    /* Only the default build pins Let's Encrypt; --with-pinned-roots may not. */
    if (!getenv("PT_CUSTOM_ROOTS")) {
        CHECK(x1);
        CHECK(x2);
    }
}

TEST(path_buffer_too_small_is_an_error)
{
    int fd = -1;
    char path[8], err[256];
    CHECK_EQ_INT(wss_roots_memfile(&fd, path, sizeof path, err, sizeof err), -1);
    CHECK_STR_CONTAINS(err, "too small");
}

int main(void)
{
    gnutls_global_init();
    RUN(every_pem_in_the_set_is_compiled_in);
    RUN(memfd_path_loads_as_a_trust_file);
    RUN(memfd_is_sealed_against_writes);
    RUN(default_set_is_lets_encrypt);
    RUN(path_buffer_too_small_is_an_error);
    gnutls_global_deinit();
    return tap_done();
}
