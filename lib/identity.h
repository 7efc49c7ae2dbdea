/*
 * identity.h -- Pilot identity files (SPEC 4).  Internal.  Prefix:
 * ptu_identity_.
 *
 * An identity file is one JSON object
 *     {"private_key":"<base64>","public_key":"<base64>"}
 * in standard base64 with padding: private_key is the 64-byte Ed25519
 * private key (32-byte seed, then the 32-byte public key, as Go's
 * ed25519.PrivateKey), public_key the 32-byte public key.  Other members
 * are ignored.  Files are written atomically with mode 0600, and a loader
 * refuses one that group or others may access.
 *
 * Every function writes a NUL-terminated explanation into err (errlen
 * bytes; err may be NULL or errlen 0) on failure.  Messages never contain
 * key material.  Temporary buffers that held key bytes are wiped.
 */
#ifndef PT_IDENTITY_H
#define PT_IDENTITY_H

#include <stddef.h>

#include "pilot_transport.h"

/* Largest identity file accepted, in bytes. */
#define PTU_IDENTITY_MAX_FILE (64 * 1024)

/* Parse the JSON text of an identity file (len bytes, need not be
 * NUL-terminated).  On success sets id's keys and has_key = 1, leaves
 * id->node_id untouched, and returns PT_OK.  Fails with PT_EINVAL, id
 * untouched, when the text is not one JSON object, "private_key" or
 * "public_key" is missing or not a string, either is not strict standard
 * base64 (alphabet, padding, no whitespace, unused bits zero), the private
 * key is not 64 bytes or the public key not 32, or either public key (the
 * second half of private_key, or public_key) differs from the one derived
 * from the seed.  PT_ENOMEM if out of memory. */
int ptu_identity_parse(const char *text, size_t len, pt_identity *id, char *err, size_t errlen);

/* Load and parse the identity file at path, as ptu_identity_parse.  The
 * file must be a regular file of at most PTU_IDENTITY_MAX_FILE bytes,
 * owned by the effective user or root, with no permission bits for group
 * or others.  Symbolic links to it (the last component of path, and any
 * link that leads on from it) are followed only when they are owned by the
 * effective user or root: whoever owns a link or the file decides what is
 * read, and root can change anything anyway.  Directories on the way are
 * not vetted.  Every check is made on a descriptor of the very object
 * checked (the file opened with O_NOFOLLOW, each link opened with O_PATH),
 * never by name and then opened by name again, so a file or link swapped
 * in between cannot slip past them.  Messages name the file and the
 * reason, and for a permission problem the chmod that fixes it.  Returns
 * PT_OK; PT_EINVAL when the file cannot be opened (message from strerror)
 * or is refused; PT_EIO when reading it fails; PT_ENOMEM. */
int ptu_identity_load(const char *path, pt_identity *id, char *err, size_t errlen);

#ifdef PTU_IDENTITY_TEST_HOOK
/* Only in the unit test's own build of this file (-DPTU_IDENTITY_TEST_HOOK):
 * when set, ptu_identity_load calls it just before each open on the way to
 * the file (hop 0: the last component of path; hop N: what the N-th
 * symbolic link names), with the name about to be opened, so a test can
 * change the file system inside that window deterministically.  Product
 * builds have no such pointer. */
extern void (*ptu_identity_test_hook_before_open)(int hop, const char *name);
#endif

/* Make a new identity from a random seed (getrandom): sets the keys and
 * has_key = 1, leaves id->node_id untouched.  Returns PT_OK, or PT_EIO if
 * the system has no randomness to give. */
int ptu_identity_generate(pt_identity *id, char *err, size_t errlen);

/* Write id to path atomically with mode 0600: a temporary file in the same
 * directory is written, synced and renamed over path, then the directory is
 * synced; on failure the temporary file is removed and path is untouched.
 * When force is 0 and path exists, refuses with PT_EINVAL ("... already
 * exists; refusing to overwrite it (use -force)"); the check is atomic, an
 * identity file created concurrently is not replaced.  Returns PT_OK;
 * PT_EINVAL for a missing or inconsistent key, a bad path or an existing
 * file; PT_EIO for a failing system call; PT_ENOMEM. */
int ptu_identity_save(const char *path, const pt_identity *id, int force, char *err,
                      size_t errlen);

/* The standard base64 (with padding) of id's public key, NUL-terminated:
 * 44 characters and the NUL. */
void ptu_identity_public_b64(const pt_identity *id, char out[45]);

#endif
