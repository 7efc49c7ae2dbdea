/* cmd_keygen.c -- "pilot-transport keygen": write a new identity file. */
#include "config.h"

#include "host.h"
#include "identity.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

int cmd_keygen(int argc, char **argv)
{
    struct host h;
    int force = 0, rc;
    pt_identity id;
    char err[PT_ERRMSG_MAX], pub[45];

    memset(&h, 0, sizeof h);
    const struct flag flags[] = {
        { "identity", FLAG_STRING, &h.identity_path, "FILE",
          "where to write the identity (required)", 0, NULL },
        { "force", FLAG_BOOL, &force, NULL, "replace an existing identity file", 0, NULL },
        { NULL, 0, NULL, NULL, NULL, 0, NULL },
    };
    rc = host_parse(&h, "keygen", "-identity FILE [-force]",
                    "Write a new Ed25519 identity in the Pilot format (JSON, mode 0600,\n"
                    "written atomically) and print its public key as \"public_key BASE64\".\n"
                    "An existing file is never replaced unless -force is given.",
                    flags, argc, argv);
    if (rc >= 0)
        return rc;
    if (!h.identity_path || !*h.identity_path) {
        host_error(&h, "-identity FILE is required");
        return EXIT_USAGE;
    }
    if (ptu_identity_generate(&id, err, sizeof err) != PT_OK ||
        ptu_identity_save(h.identity_path, &id, force, err, sizeof err) != PT_OK) {
        ptu_wipe(&id, sizeof id);
        host_error(&h, "%s", err);
        return EXIT_FAIL;
    }
    ptu_identity_public_b64(&id, pub);
    ptu_wipe(&id, sizeof id);
    printf("public_key %s\n", pub);
    return 0;
}
