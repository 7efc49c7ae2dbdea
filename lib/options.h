/* options.h -- validating a plugin's key/value options.  Internal. */
#ifndef PT_OPTIONS_H
#define PT_OPTIONS_H

#include "pilot_transport.h"

/* Check that every key is documented in docs (key NULL terminated), that no
 * key is given twice and that no key or value is NULL.  Returns PT_OK or
 * PT_EOPTION with a message naming the key, prefixed with who ("udp"). */
int ptu_options_check(const char *who, const pt_option *opts, size_t n,
                      const pt_option_doc *docs, char *err, size_t errlen);

/* The value given for key, or the documented default, or NULL. */
const char *ptu_option_get(const pt_option *opts, size_t n, const pt_option_doc *docs,
                           const char *key);

#endif
