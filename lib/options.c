/* options.c -- validate and look up plugin options against their docs. */
#include "config.h"

#include "options.h"
#include "quote.h"
#include "util.h"

#include <string.h>

static const pt_option_doc *find_doc(const pt_option_doc *docs, const char *key)
{
    for (; docs && docs->key; docs++)
        if (strcmp(docs->key, key) == 0)
            return docs;
    return NULL;
}

int ptu_options_check(const char *who, const pt_option *opts, size_t n,
                      const pt_option_doc *docs, char *err, size_t errlen)
{
    if (n > 0 && !opts)
        return ptu_err(err, errlen, PT_EINVAL, "%s: %zu options but no option array", who, n);
    for (size_t i = 0; i < n; i++) {
        if (!opts[i].key || !opts[i].value)
            return ptu_err(err, errlen, PT_EOPTION, "%s: option %zu has no key or no value",
                           who, i + 1);
        if (!find_doc(docs, opts[i].key)) {
            char known[256] = "";
            size_t used = 0;
            for (const pt_option_doc *d = docs; d && d->key; d++) {
                size_t kl = strlen(d->key);
                if (used + kl + 3 >= sizeof known)
                    break;
                if (used) {
                    memcpy(known + used, ", ", 2);
                    used += 2;
                }
                memcpy(known + used, d->key, kl + 1);
                used += kl;
            }
            char shown[64];
            ptu_printable(shown, sizeof shown, opts[i].key, strlen(opts[i].key));
            return ptu_err(err, errlen, PT_EOPTION, "%s: unknown option \"%s\" (known: %s)", who,
                           shown, used ? known : "none");
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(opts[j].key, opts[i].key) == 0)
                return ptu_err(err, errlen, PT_EOPTION, "%s: option \"%s\" given twice", who,
                               opts[i].key);
    }
    return PT_OK;
}

const char *ptu_option_get(const pt_option *opts, size_t n, const pt_option_doc *docs,
                           const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (opts[i].key && strcmp(opts[i].key, key) == 0)
            return opts[i].value;
    const pt_option_doc *d = find_doc(docs, key);
    return d ? d->default_value : NULL;
}
